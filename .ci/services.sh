#!/usr/bin/env bash
# Make sure the services the e2e tests talk to are up: PostgreSQL, RabbitMQ (+ management API), Redis, NATS.
# Starts only what is down, then waits (bounded) until each one answers. Safe to run any number of times.
#
#   bash .ci/services.sh          # from a developer shell, before `npm run test:e2e`
#
# Sourcing it (from a script that runs under `set -euo pipefail`) only defines the functions: call ensure_services.
#
# Tunables (environment): SERVICE_WAIT_SECONDS (default 60).
set -euo pipefail

SERVICE_WAIT_SECONDS="${SERVICE_WAIT_SECONDS:-60}"

PG_HOST=127.0.0.1
PG_PORT=5432
PG_USER=postgres
PG_DATABASE="test"
RABBITMQ_MANAGEMENT_URL=http://127.0.0.1:15672/
REDIS_HOST=127.0.0.1
REDIS_PORT=6379
NATS_HOST=127.0.0.1
NATS_PORT=4222

log() { printf '[services] %s\n' "$*"; }
fail() {
  printf '[services] ERROR: %s\n' "$*" >&2
  return 1
}

# wait_until DESCRIPTION SECONDS COMMAND...: run COMMAND every second until it succeeds, at most SECONDS.
wait_until() {
  local what="$1" seconds="$2"
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      fail "$what did not answer within ${seconds}s (check: $*)"
      return 1
    fi
    sleep 1
  done
  log "$what answers"
}

# need COMMAND...: fail clearly if a service's tools are not installed on this machine.
need() {
  local cmd
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 || {
      fail "'$cmd' is not installed (this machine is expected to have the services installed from Debian's packages)"
      return 1
    }
  done
}

# tcp_open HOST PORT: succeeds if something accepts a TCP connection there.
tcp_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# --- PostgreSQL -----------------------------------------------------------------------------------------
postgres_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; }

ensure_postgres() {
  need pg_isready psql createdb
  if postgres_up; then
    log "PostgreSQL is up on $PG_HOST:$PG_PORT"
  else
    need pg_ctlcluster
    local version
    # shellcheck disable=SC2012 # version directory names are plain (e.g. 15)
    version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1 || true)"
    [[ -n "$version" ]] || fail "PostgreSQL is down and no cluster is configured under /etc/postgresql"
    log "PostgreSQL is down: starting cluster $version/main"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    wait_until "PostgreSQL" "$SERVICE_WAIT_SECONDS" postgres_up
  fi
  if [[ "$(psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -Atc "select 1 from pg_database where datname='$PG_DATABASE'")" == 1 ]]; then
    log "PostgreSQL database '$PG_DATABASE' exists"
  else
    log "PostgreSQL database '$PG_DATABASE' is missing: creating it"
    createdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$PG_DATABASE"
  fi
}

# --- RabbitMQ -------------------------------------------------------------------------------------------
rabbitmq_up() { rabbitmq-diagnostics -q ping; }
rabbitmq_management_up() { curl -fsS -o /dev/null --max-time 2 "$RABBITMQ_MANAGEMENT_URL"; }

ensure_rabbitmq() {
  need rabbitmq-server rabbitmqctl rabbitmq-diagnostics rabbitmq-plugins curl
  if rabbitmq_up >/dev/null 2>&1; then
    log "RabbitMQ node is up"
  else
    log "RabbitMQ is down: starting it (rabbitmq-server -detached)"
    rabbitmq-server -detached
    wait_until "RabbitMQ node" "$SERVICE_WAIT_SECONDS" rabbitmq_up
  fi
  # The node can answer ping before the broker application has booted: wait for that too (instant if it has).
  timeout "$((SERVICE_WAIT_SECONDS + 5))" rabbitmqctl -q await_startup --timeout "$SERVICE_WAIT_SECONDS" >/dev/null ||
    fail "RabbitMQ's broker did not finish starting within ${SERVICE_WAIT_SECONDS}s (rabbitmqctl await_startup)"
  log "RabbitMQ broker is running"
  log "RabbitMQ: enabling the management plugin (idempotent)"
  rabbitmq-plugins -q enable rabbitmq_management >/dev/null
  wait_until "RabbitMQ management API ($RABBITMQ_MANAGEMENT_URL)" "$SERVICE_WAIT_SECONDS" rabbitmq_management_up
}

# --- Redis ----------------------------------------------------------------------------------------------
redis_up() { [[ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }

ensure_redis() {
  need redis-cli redis-server
  if redis_up; then
    log "Redis is up on $REDIS_HOST:$REDIS_PORT"
    return
  fi
  log "Redis is down: starting it (no persistence)"
  local dir=/var/lib/redis logfile=/var/log/redis/ci.log
  [[ -d "$dir" && -w "$dir" ]] || dir="${TMPDIR:-/tmp}"
  [[ -d "${logfile%/*}" && -w "${logfile%/*}" ]] || logfile=""
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no --dir "$dir" --logfile "$logfile"
  wait_until "Redis" "$SERVICE_WAIT_SECONDS" redis_up
}

# --- NATS (JetStream) -----------------------------------------------------------------------------------
nats_up() { tcp_open "$NATS_HOST" "$NATS_PORT"; }

ensure_nats() {
  need start-stop-daemon /usr/sbin/nats-server
  if nats_up; then
    log "NATS is up on $NATS_HOST:$NATS_PORT"
    return
  fi
  log "NATS is down: starting nats-server with JetStream"
  mkdir -p /var/lib/nats-server
  local logfile=/var/log/nats-server.log
  [[ -w "${logfile%/*}" ]] || logfile="${TMPDIR:-/tmp}/nats-server.log"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a "$NATS_HOST" -p "$NATS_PORT" -js -sd /var/lib/nats-server -l "$logfile"
  wait_until "NATS" "$SERVICE_WAIT_SECONDS" nats_up
}

ensure_services() {
  ensure_postgres
  ensure_rabbitmq
  ensure_redis
  ensure_nats
  log "all services are up"
}

# Executed (not sourced): do the work.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  ensure_services
fi

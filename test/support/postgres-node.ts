import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { isAlive, isPortFree, readTail } from './process-probes.js';
import { waitUntil } from './wait-for.js';

/** Options of {@link startThrowawayPostgres}. */
export interface ThrowawayPostgresOptions {
  /** First port tried; the next ones are tried while a port is taken. @default 5440 */
  readonly firstPort?: number;
  /** Bound on a server start (also `start()`), and on `stop()`. @default 30000 */
  readonly startTimeoutMs?: number;
}

/** A PostgreSQL cluster of one test, on its own port and data directory, that it may stop, kill and start again. */
export interface ThrowawayPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/test` (trust authentication). */
  readonly url: string;
  readonly port: number;
  /** Temporary directory holding the cluster (`data/`), its log (`server.log`) and its Unix socket; removed by `dispose()`. */
  readonly dir: string;
  /** `pg_ctl stop -m <mode>`; resolves once the server has exited and its port is closed. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** `pg_ctl start` on the same directory and port; resolves once the server accepts connections. */
  start(): Promise<void>;
  /** `kill -9` of the postmaster; resolves once it and its child processes are gone. */
  kill(): Promise<void>;
  /** Stops the server (immediate) if it runs and removes its directory. Idempotent. */
  dispose(): Promise<void>;
}

const PORTS_TRIED = 100;
const INSTALL_DIR = '/usr/lib/postgresql';
/** After `kill()`, how long the postmaster's children get to notice its death before they are killed too. */
const ORPHAN_GRACE_MS = 5000;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a PostgreSQL program as the `postgres` user (`initdb` and `pg_ctl` refuse root), in `cwd`, without PG* variables. */
function runAsPostgres(file: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<Run> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PG')));
  const [command, commandArgs] = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
  return new Promise((resolve) => {
    execFile(command, commandArgs, { cwd, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      const killed = error?.killed === true ? `(killed after ${timeoutMs} ms) ` : '';
      resolve({ code, stdout, stderr: killed + (stderr || error?.message || '') });
    });
  });
}

/** `/usr/lib/postgresql/<newest version>/bin`. */
async function binDir(): Promise<string> {
  const versions = (await fs.readdir(INSTALL_DIR).catch(() => [] as string[]))
    .filter((entry) => /^\d+(\.\d+)?$/.test(entry))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = path.join(INSTALL_DIR, version, 'bin');
    if (
      await fs.access(path.join(bin, 'pg_ctl')).then(
        () => true,
        () => false,
      )
    )
      return bin;
  }
  throw new Error(`No PostgreSQL server under ${INSTALL_DIR}/<version>/bin (Debian: apt-get install postgresql)`);
}

/** The live postmaster of a data directory, from the first line of its postmaster.pid. */
async function postmasterOf(dataDir: string): Promise<number | undefined> {
  const text = await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number(text.split('\n', 1)[0]);
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/** The processes whose parent is `pid` (from /proc/<pid>/stat: "pid (comm) state ppid ..."). */
async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) children.push(Number(entry));
  }
  return children;
}

function killNow(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * SIGKILL of a postmaster, then waits for it and for its children (backends, checkpointer...), which exit once they notice
 * its death; the ones still there after {@link ORPHAN_GRACE_MS} are killed too, since a new postmaster refuses to start
 * while they hold the old shared memory.
 */
async function killPostmaster(pid: number): Promise<void> {
  const children = await childrenOf(pid);
  killNow(pid);
  await waitUntil(async () => !isAlive(pid), 10_000, `postmaster ${pid} to exit after SIGKILL`);
  await waitUntil(async () => children.every((child) => !isAlive(child)), ORPHAN_GRACE_MS, 'orphaned backends to exit').catch(() =>
    children.forEach(killNow),
  );
  await waitUntil(async () => children.every((child) => !isAlive(child)), 10_000, `children of postmaster ${pid} to exit`);
}

/**
 * Takes the first port whose directory `<tmp>/tidings-postgres-<port>` we can create (an atomic lock between test processes)
 * and that is free. A directory left by a dead test process is reclaimed, killing its postmaster if it still runs.
 */
async function claimPort(firstPort: number, lastPort: number): Promise<{ port: number; dir: string }> {
  for (let port = firstPort; port <= lastPort; port += 1) {
    const dir = path.join(os.tmpdir(), `tidings-postgres-${port}`);
    try {
      await fs.mkdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(await fs.readFile(path.join(dir, 'owner'), 'utf8').catch(() => 'NaN'));
      if (!Number.isInteger(owner) || isAlive(owner)) continue;
      const orphan = await postmasterOf(path.join(dir, 'data'));
      if (orphan !== undefined) {
        const cmdline = await fs.readFile(`/proc/${orphan}/cmdline`, 'utf8').catch(() => '');
        if (!cmdline.includes(dir)) continue; // A recycled pid: not ours to kill.
        await killPostmaster(orphan);
      }
      await fs.rm(dir, { recursive: true, force: true });
      port -= 1;
      continue;
    }
    await fs.writeFile(path.join(dir, 'owner'), String(process.pid));
    if (await isPortFree(port)) return { port, dir };
    await fs.rm(dir, { recursive: true, force: true });
  }
  throw new Error(`No free port for a throwaway PostgreSQL cluster in ${firstPort}..${lastPort}`);
}

async function chownToPostgres(dir: string): Promise<void> {
  if (process.getuid?.() !== 0) return; // Not root: the cluster runs as ourselves.
  const passwd = (await fs.readFile('/etc/passwd', 'utf8')).split('\n').find((line) => line.startsWith('postgres:'));
  const [, , uid, gid] = passwd?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error('No postgres user in /etc/passwd to run initdb and pg_ctl as');
  await fs.chown(dir, Number(uid), Number(gid));
}

async function acceptsConnections(port: number): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A server start that failed because another process listens on the port: the caller tries the next one. */
class PortTakenError extends Error {}

/**
 * Starts a separate PostgreSQL cluster (`initdb` + `pg_ctl` of the installed server) with a database `test`, for tests that
 * stop or kill the database, which must never happen to the shared server on 5432. Needs root (or to be the `postgres`
 * user). Call `dispose()` after.
 */
export async function startThrowawayPostgres(options: ThrowawayPostgresOptions = {}): Promise<ThrowawayPostgres> {
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const firstPort = options.firstPort ?? 5440;
  const lastPort = firstPort + PORTS_TRIED - 1;
  const bin = await binDir();
  for (let port = firstPort; ;) {
    const claimed = await claimPort(port, lastPort);
    const cluster = throwawayCluster(bin, claimed.port, claimed.dir, startTimeoutMs);
    try {
      await cluster.create();
      return cluster.handle;
    } catch (error) {
      await cluster.handle.dispose();
      // Another program (not a throwaway cluster: those lock the port) took it between the check and the bind.
      if (!(error instanceof PortTakenError) || claimed.port >= lastPort) throw error;
      port = claimed.port + 1;
    }
  }
}

function throwawayCluster(bin: string, port: number, dir: string, startTimeoutMs: number) {
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  const seconds = String(Math.ceil(startTimeoutMs / 1000));

  const failure = async (what: string, cause: unknown): Promise<Error> => {
    const log = await readTail(logFile, 30);
    const message = `Throwaway PostgreSQL on port ${port}: ${what}: ${cause instanceof Error ? cause.message : String(cause)}`;
    const error = /Address already in use/.test(log) ? new PortTakenError(message, { cause }) : new Error(message, { cause });
    error.message += `\n--- last lines of ${logFile} ---\n${log || '(none)'}`;
    return error;
  };
  const pgCtl = async (args: string[], timeoutMs: number): Promise<void> => {
    const result = await runAsPostgres(path.join(bin, 'pg_ctl'), ['-D', dataDir, ...args], dir, timeoutMs);
    if (result.code !== 0) throw new Error(`pg_ctl ${args.join(' ')} failed (exit ${result.code}): ${result.stderr.trim()}`);
  };
  const launch = async (): Promise<void> => {
    try {
      // -w waits for the "ready" status in postmaster.pid; -l sends the server's output to the log (pg_ctl then exits).
      const serverOptions = `-p ${port} -k '${dir}' -c listen_addresses=127.0.0.1 -c fsync=off`;
      await pgCtl(['-l', logFile, '-o', serverOptions, '-w', '-t', seconds, 'start'], startTimeoutMs + 5000);
      await waitUntil(() => acceptsConnections(port), startTimeoutMs, `connections on 127.0.0.1:${port}`);
    } catch (error) {
      throw await failure(`did not start within ${startTimeoutMs} ms`, error);
    }
  };
  const running = () => postmasterOf(dataDir);
  /**
   * The lock files of a killed postmaster name its pid, and the server refuses to start while that pid exists. Here the
   * killed postmaster is a child of PID 1, which may leave it a zombie for seconds: remove the locks once their pid is dead.
   */
  const removeStaleLocks = async (): Promise<void> => {
    for (const lock of [path.join(dataDir, 'postmaster.pid'), path.join(dir, `.s.PGSQL.${port}.lock`)]) {
      const pid = Number((await fs.readFile(lock, 'utf8').catch(() => '')).split('\n', 1)[0]);
      if (Number.isInteger(pid) && pid > 0 && !isAlive(pid)) await fs.rm(lock, { force: true });
    }
  };

  const create = async (): Promise<void> => {
    await chownToPostgres(dir);
    const initdb = ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'];
    const result = await runAsPostgres(path.join(bin, 'initdb'), initdb, dir, startTimeoutMs);
    if (result.code !== 0) throw new Error(`initdb in ${dataDir} failed (exit ${result.code}): ${result.stderr.trim()}`);
    await launch();
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('CREATE DATABASE test');
    } catch (error) {
      throw await failure('could not create database test', error);
    } finally {
      await client.end().catch(() => {});
    }
  };

  let disposed: Promise<void> | undefined;
  const handle: ThrowawayPostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/test`,
    port,
    dir,
    stop: async (mode = 'fast') => {
      const pid = await running();
      if (pid === undefined) throw new Error(`Throwaway PostgreSQL on port ${port} is not running`);
      try {
        await pgCtl(['-m', mode, '-w', '-t', seconds, 'stop'], startTimeoutMs + 5000);
        await waitUntil(async () => !isAlive(pid) && (await isPortFree(port)), startTimeoutMs, `port ${port} to close`);
      } catch (error) {
        throw await failure(`did not stop (${mode})`, error);
      }
    },
    start: async () => {
      const pid = await running();
      if (pid !== undefined) throw new Error(`Throwaway PostgreSQL on port ${port} is still running (postmaster ${pid}): stop() it first`);
      await removeStaleLocks();
      await launch();
    },
    kill: async () => {
      const pid = await running();
      if (pid === undefined) throw new Error(`Throwaway PostgreSQL on port ${port} is not running`);
      await killPostmaster(pid);
    },
    dispose: () =>
      (disposed ??= (async () => {
        const pid = await running();
        if (pid !== undefined) {
          await pgCtl(['-m', 'immediate', '-w', '-t', '10', 'stop'], 15_000).catch(() => {});
          if (isAlive(pid)) await killPostmaster(pid);
        }
        await fs.rm(dir, { recursive: true, force: true });
      })()),
  };
  return { handle, create };
}

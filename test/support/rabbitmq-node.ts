import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isAlive, isPortFree, readTail, waitForAmqp } from './process-probes.js';
import { waitUntil } from './wait-for.js';

/** Options of {@link startThrowawayRabbitMq}. */
export interface ThrowawayRabbitMqOptions {
  /** First AMQP port tried; the Erlang distribution port is this + 20000. @default 5673 */
  readonly firstPort?: number;
  /** Bound on a node start (also `startApp()` and `restart()`). @default 60000 */
  readonly startTimeoutMs?: number;
}

/** A RabbitMQ node of one test, on its own ports and data directory, that it may stop, alarm or kill. */
export interface ThrowawayRabbitMq {
  /** `amqp://guest:guest@127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** `tidings-<port>@localhost`. */
  readonly nodeName: string;
  /** Temporary directory holding the node's data, logs and configuration; removed by `dispose()`. */
  readonly dir: string;
  /** Runs `rabbitmqctl -q -n <node> ...args` and returns its stdout. */
  ctl(...args: string[]): Promise<string>;
  /** `rabbitmqctl stop_app`: the Erlang node stays up, AMQP connections are closed and the listener goes away. */
  stopApp(): Promise<void>;
  /** `rabbitmqctl start_app`; resolves once the AMQP listener answers a protocol header. */
  startApp(): Promise<void>;
  /** Closes every client connection on the node (the client sees connection.close 320 CONNECTION_FORCED). */
  closeAllConnections(reason?: string): Promise<void>;
  /** Raises (`true`) or clears (`false`) the memory alarm; resolves once the alarm is (no longer) in effect. */
  setMemoryAlarm(on: boolean): Promise<void>;
  /** `kill -9` of the node's OS process; resolves once it is gone. */
  kill(): Promise<void>;
  /** Starts the node again after `kill()`, on the same ports and data directory. */
  restart(): Promise<void>;
  /** Stops the node, waits for its process to exit and removes its directory. Idempotent. */
  dispose(): Promise<void>;
}

const DIST_PORT_OFFSET = 20000;
const CLI_DIST_PORT_OFFSET = 40000;
const PORTS_TRIED = 100;
/** The Debian wrapper re-reads rabbitmqctl arguments through `sh -c "..."`, escaping only double quotes. */
const SHELL_SPECIAL = /[$`\\]/;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      const killed = error?.killed === true ? `(killed after ${timeoutMs} ms) ` : '';
      resolve({ code, stdout, stderr: killed + stderr });
    });
  });
}

/** Takes the first port whose directory `/tmp/tidings-rabbitmq-<port>` we can create (an atomic lock) and whose ports are free. */
async function claimPort(firstPort: number): Promise<{ port: number; dir: string }> {
  for (let port = firstPort; port < firstPort + PORTS_TRIED; port += 1) {
    const dir = path.join(os.tmpdir(), `tidings-rabbitmq-${port}`);
    const free = async () => (await isPortFree(port)) && (await isPortFree(port + DIST_PORT_OFFSET));
    try {
      await fs.mkdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // Left behind by a test process that died? Reclaim it only if its owner and its node are both gone.
      const owner = Number(await fs.readFile(path.join(dir, 'owner'), 'utf8').catch(() => 'NaN'));
      if (!Number.isInteger(owner) || isAlive(owner) || !(await free())) continue;
      await fs.rm(dir, { recursive: true, force: true });
      port -= 1;
      continue;
    }
    await fs.writeFile(path.join(dir, 'owner'), String(process.pid));
    if (await free()) return { port, dir };
    await fs.rm(dir, { recursive: true, force: true });
  }
  throw new Error(`No free port for a throwaway RabbitMQ node in ${firstPort}..${firstPort + PORTS_TRIED - 1}`);
}

async function chownToRabbitMq(dir: string): Promise<void> {
  if (process.getuid?.() !== 0) return; // Not root: the wrapper runs the node as ourselves.
  const uid = Number((await run('id', ['-u', 'rabbitmq'], process.env, 5000)).stdout);
  const gid = Number((await run('id', ['-g', 'rabbitmq'], process.env, 5000)).stdout);
  for (const entry of ['', 'mnesia', 'log', 'enabled_plugins', 'rabbitmq.conf', 'rabbitmq-env.conf']) {
    await fs.chown(path.join(dir, entry), uid, gid);
  }
}

function nodeEnv(port: number, nodeName: string, dir: string): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([key]) => !key.startsWith('RABBITMQ_') && !key.startsWith('ERL_'));
  return {
    ...Object.fromEntries(inherited),
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(port + DIST_PORT_OFFSET),
    // rabbitmqctl's own distribution ports; the default 35672-35682 is shared by every CLI call on the machine.
    RABBITMQ_CTL_DIST_PORT_MIN: String(port + CLI_DIST_PORT_OFFSET),
    RABBITMQ_CTL_DIST_PORT_MAX: String(port + CLI_DIST_PORT_OFFSET + 10),
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_PID_FILE: path.join(dir, 'pid'),
    // Not /etc/rabbitmq's: those name the shared node, its port 5672 and its management plugin (port 15672).
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, 'advanced.config'),
    RABBITMQ_CONF_ENV_FILE: path.join(dir, 'rabbitmq-env.conf'),
    ERL_CRASH_DUMP: path.join(dir, 'erl_crash.dump'),
  };
}

/**
 * Starts a separate RabbitMQ node (the installed `rabbitmq-server`) for tests that stop, alarm or kill a broker,
 * which must never happen to the shared node on 5672. Needs root (or the `rabbitmq` user). Call `dispose()` after.
 */
export async function startThrowawayRabbitMq(options: ThrowawayRabbitMqOptions = {}): Promise<ThrowawayRabbitMq> {
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const { port, dir } = await claimPort(options.firstPort ?? 5673);
  const nodeName = `tidings-${port}@localhost`;
  const env = nodeEnv(port, nodeName, dir);
  const pidFile = path.join(dir, 'pid');
  const logFile = path.join(dir, 'log', `${nodeName}.log`);

  const ctlWithin = async (timeoutMs: number, args: string[]): Promise<string> => {
    const unsafe = args.find((arg) => SHELL_SPECIAL.test(arg));
    if (unsafe !== undefined)
      throw new Error(`rabbitmqctl argument ${JSON.stringify(unsafe)} has $, \` or \\, which its wrapper's sh -c mangles`);
    const result = await run('rabbitmqctl', ['-q', '-n', nodeName, ...args], env, timeoutMs);
    if (result.code !== 0)
      throw new Error(`rabbitmqctl ${args.join(' ')} on ${nodeName} failed (exit ${result.code}): ${result.stderr.trim()}`);
    return result.stdout;
  };
  const ctl = (...args: string[]): Promise<string> => ctlWithin(startTimeoutMs, args);
  const osPid = async (): Promise<number | undefined> => {
    const pid = Number(await fs.readFile(pidFile, 'utf8').catch(() => 'NaN'));
    return Number.isInteger(pid) && isAlive(pid) ? pid : undefined;
  };
  const failure = async (what: string, cause: unknown): Promise<Error> => {
    const startup = await readTail(path.join(dir, 'startup.log'), 10);
    const log = await readTail(logFile, 30);
    const detail = `${startup ? `\n--- ${dir}/startup.log ---\n${startup}` : ''}\n--- last lines of ${logFile} ---\n${log || '(none)'}`;
    return new Error(`Throwaway RabbitMQ ${nodeName}: ${what}: ${cause instanceof Error ? cause.message : String(cause)}${detail}`, {
      cause,
    });
  };
  const launch = async (): Promise<void> => {
    await fs.rm(pidFile, { force: true });
    const out = await fs.open(path.join(dir, 'startup.log'), 'a');
    try {
      // -detached forks the node and returns; the node's own output goes to its log file.
      const child = spawn('rabbitmq-server', ['-detached'], { env, stdio: ['ignore', out.fd, out.fd] });
      const code = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('exit', resolve));
      if (code !== 0) throw new Error(`rabbitmq-server -detached exited with ${code}`);
      // `await_startup` fails at once (exit 69) while the node is not yet registered; `wait` follows the pid file.
      await ctlWithin(startTimeoutMs + 5000, ['wait', pidFile, '--timeout', String(Math.ceil(startTimeoutMs / 1000))]);
      await waitForAmqp(port, Date.now() + startTimeoutMs);
    } catch (error) {
      throw await failure(`did not start within ${startTimeoutMs} ms`, error);
    } finally {
      await out.close();
    }
  };
  const waitForExit = async (pid: number, timeoutMs: number) => {
    await waitUntil(async () => !isAlive(pid), timeoutMs, `OS process ${pid} of ${nodeName} to exit`);
  };
  const memoryAlarmIs = async (on: boolean): Promise<void> => {
    // Polls inside the node (one CLI call) until rabbit_alarm has (or no longer has) this node's memory alarm.
    const alarmed = `lists:keymember({resource_limit, memory, node()}, 1, rabbit_alarm:get_alarms())`;
    const erl = `W = fun Wait(0) -> false; Wait(N) -> case ${alarmed} of ${on} -> true; _ -> timer:sleep(50), Wait(N - 1) end end, W(200).`;
    if ((await ctl('eval', erl)).trim() !== 'true') throw new Error(`memory alarm still ${on ? 'off' : 'on'} on ${nodeName} after 10 s`);
  };

  let disposed: Promise<void> | undefined;
  const node: ThrowawayRabbitMq = {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    port,
    nodeName,
    dir,
    ctl,
    stopApp: async () => void (await ctl('stop_app')),
    startApp: async () => {
      await ctl('start_app');
      await waitForAmqp(port, Date.now() + startTimeoutMs);
    },
    closeAllConnections: async (reason = 'closed by a test') => void (await ctl('close_all_connections', '--global', reason)),
    setMemoryAlarm: async (on) => {
      // A watermark of 1e-7 of RAM (a few KiB) is below any node's use; vm_memory_monitor acts on its next check (2.5 s period).
      await ctl('set_vm_memory_high_watermark', on ? '0.0000001' : '0.4');
      await memoryAlarmIs(on);
    },
    kill: async () => {
      const pid = await osPid();
      if (pid === undefined) throw new Error(`${nodeName} is not running`);
      process.kill(pid, 'SIGKILL');
      await waitForExit(pid, 10_000);
    },
    restart: async () => {
      if ((await osPid()) !== undefined) throw new Error(`${nodeName} is still running: kill() or dispose() it first`);
      await launch();
    },
    dispose: () =>
      (disposed ??= (async () => {
        const pid = await osPid();
        if (pid !== undefined) {
          const forceKill = () => void (isAlive(pid) && process.kill(pid, 'SIGKILL'));
          await ctl('stop').catch(forceKill);
          await waitForExit(pid, 30_000).catch(forceKill);
          await waitForExit(pid, 5_000);
        }
        await fs.rm(dir, { recursive: true, force: true });
      })()),
  };

  try {
    await fs.mkdir(path.join(dir, 'mnesia'));
    await fs.mkdir(path.join(dir, 'log'));
    await fs.writeFile(path.join(dir, 'enabled_plugins'), '[].\n');
    await fs.writeFile(path.join(dir, 'rabbitmq.conf'), `listeners.tcp.local = 127.0.0.1:${port}\n`);
    await fs.writeFile(
      path.join(dir, 'rabbitmq-env.conf'),
      'ERL_EPMD_ADDRESS=127.0.0.1\nSERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"\n',
    );
    await chownToRabbitMq(dir);
    await launch();
    return node;
  } catch (error) {
    await node.dispose();
    throw error;
  }
}

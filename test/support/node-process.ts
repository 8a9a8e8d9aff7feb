import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** A Node script run as a child process of the test, killed by its own pid. */
export interface NodeProcess {
  readonly pid: number;
  /** Every line it printed on stdout so far. */
  readonly lines: readonly string[];
  /** Resolves with the first stdout line matching `pattern` (earlier lines count); rejects if the process exits first or after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends `signal` and resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Resolves with the exit code (or signal) once it exits. */
  readonly exited: Promise<number | NodeJS.Signals>;
}

/** Runs `node <script> [...args]` (the script relative to the repository root) with `env` added to the test's environment. */
export function startNodeProcess(script: string, env: Record<string, string>, args: readonly string[] = []): NodeProcess {
  const child: ChildProcess = spawn(process.execPath, [path.resolve(script), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  const listeners = new Set<() => void>();
  let buffered = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
    for (const listener of listeners) listener();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<number | NodeJS.Signals>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve(signal ?? code ?? -1);
      for (const listener of listeners) listener();
    });
  });
  let done = false;
  void exited.then(() => (done = true));
  if (child.pid === undefined) throw new Error(`could not start ${script}`);
  return {
    pid: child.pid,
    lines,
    exited,
    waitForLine: (pattern, timeoutMs = 30_000) =>
      new Promise<string>((resolve, reject) => {
        const check = (): void => {
          const line = lines.find((l) => pattern.test(l));
          if (line !== undefined) finish(() => resolve(line));
          else if (done) finish(() => reject(new Error(`${script} exited before printing ${pattern}; stderr: ${stderr}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`${script} printed no ${pattern} in ${timeoutMs} ms; stderr: ${stderr}`))),
          timeoutMs,
        );
        const finish = (settle: () => void): void => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      }),
    kill: async (signal = 'SIGKILL') => {
      if (!done) process.kill(child.pid as number, signal);
      await exited;
    },
  };
}

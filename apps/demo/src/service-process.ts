import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SERVICE_LINE = /service on (http:\/\/\S+)/;
/** Nest's per-route and per-module startup lines: dozens per service, and the demo's reader needs none of them. */
const STARTUP_DETAIL = /\[(RouterExplorer|RoutesResolver|InstanceLoader)\]/;

/** One sample service run by the demo as a child process, its output prefixed with its name. */
export class ServiceProcess {
  private readonly child: ChildProcess;
  readonly exited: Promise<number | NodeJS.Signals>;
  /** Resolves with the service's URL once it has started; rejects if it exits first. */
  readonly ready: Promise<string>;

  constructor(
    readonly name: string,
    env: Record<string, string>,
    prefix: (line: string) => string,
  ) {
    const main = fileURLToPath(new URL(`../../${name}/src/main.js`, import.meta.url));
    // A process group of its own: Ctrl-C reaches only the demo, which then stops each service once, in order. A second
    // signal during a service's drain would kill it with the default action.
    this.child = spawn(process.execPath, [main], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve(signal ?? code ?? -1)));
    this.ready = new Promise((resolve, reject) => {
      void this.exited.then((how) => reject(new Error(`the ${name} service exited (${how}) before it was ready; its output is above`)));
      for (const stream of [this.child.stdout, this.child.stderr]) {
        if (!stream) continue;
        createInterface({ input: stream }).on('line', (line) => {
          if (!STARTUP_DETAIL.test(line)) console.log(prefix(line));
          const url = SERVICE_LINE.exec(line)?.[1];
          if (url) resolve(url);
        });
      }
    });
    // The demo reports the failure through `ready`; an unhandled rejection would end the process first.
    this.ready.catch(() => undefined);
  }

  /** Asks the service to drain and stop (SIGTERM); resolves once it has exited. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}

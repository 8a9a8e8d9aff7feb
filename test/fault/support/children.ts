import { startNodeProcess, type NodeProcess } from '../../support/node-process.js';

/**
 * The child processes of a fault test. A child the test kills is a fault it injected; a child that exits on its own
 * is a crash, and the pass line says 0 crashes.
 */
export class Children {
  private readonly running: { readonly process: NodeProcess; killedByTest: boolean }[] = [];
  private exitedOnTheirOwn = 0;

  constructor(private readonly env: Record<string, string>) {}

  start(script: string, env: Record<string, string> = {}): NodeProcess {
    const child = startNodeProcess(script, { ...this.env, ...env });
    const entry = { process: child, killedByTest: false };
    this.running.push(entry);
    void child.exited.then(() => {
      if (!entry.killedByTest) this.exitedOnTheirOwn += 1;
    });
    return {
      ...child,
      kill: async (signal) => {
        entry.killedByTest = true;
        await child.kill(signal);
      },
    };
  }

  /** Children that exited without being killed by the test. */
  crashes = (): number => this.exitedOnTheirOwn;

  /** Kills every child still running (test cleanup; these kills are not faults). */
  async killAll(): Promise<void> {
    await Promise.all(
      this.running.map(async (entry) => {
        entry.killedByTest = true;
        await entry.process.kill();
      }),
    );
  }
}

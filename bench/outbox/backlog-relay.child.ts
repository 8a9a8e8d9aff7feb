import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { withTimeout } from '../rabbitmq/broker.js';
import type { BenchOutboxTable } from './database.js';

/** The relays the backlog scenario can run in a process of their own. */
export type BacklogRelayKind = 'tidings' | 'raw-4x500';

/** What the relay process is to do: drain `rows` rows of `table` to `exchange`, sampling its memory every `sampleMs`. */
export interface BacklogRelayJob {
  readonly relay: BacklogRelayKind;
  readonly table: BenchOutboxTable;
  readonly exchange: string;
  readonly rows: number;
  readonly sampleMs: number;
}

/** A line the relay process writes on stdout: a memory sample, or the end of the drain. */
export type BacklogRelayReport =
  | {
      readonly kind: 'sample';
      /** Since the relay started. */
      readonly atMs: number;
      /** Rows deleted and committed so far. */
      readonly completed: number;
      readonly rssBytes: number;
      readonly heapUsedBytes: number;
    }
  | {
      readonly kind: 'done';
      /** From the relay's start until its last row was committed. */
      readonly elapsedMs: number;
      /** The relay process's CPU time (user + system) over that stretch, in microseconds. */
      readonly cpuUs: number;
      readonly completed: number;
      readonly note: string;
    };

export type BacklogRelayDone = Extract<BacklogRelayReport, { kind: 'done' }>;
export type BacklogRelaySample = Extract<BacklogRelayReport, { kind: 'sample' }>;

const SCRIPT = fileURLToPath(new URL('./backlog-relay.process.js', import.meta.url));

/**
 * Runs `job` in a child process (compiled `backlog-relay.process.js`), so that the memory it reports is the relay's
 * alone, not the bench's or the consumer's; passes each sample to `onSample`. Resolves with the child's last report
 * once it exited cleanly; kills it if it has not within `timeoutMs`.
 */
export async function runRelayProcess(
  job: BacklogRelayJob,
  onSample: (sample: BacklogRelaySample) => void,
  timeoutMs: number,
): Promise<BacklogRelayDone> {
  const child = spawn(process.execPath, [SCRIPT, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const closed = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  const reports = async (): Promise<BacklogRelayDone> => {
    let done: BacklogRelayDone | undefined;
    for await (const line of createInterface({ input: child.stdout })) {
      const report = JSON.parse(line) as BacklogRelayReport;
      if (report.kind === 'sample') onSample(report);
      else done = report;
    }
    const code = await closed;
    if (code !== 0 || done === undefined) throw new Error(`the ${job.relay} relay process exited with ${code} before draining its backlog`);
    return done;
  };
  try {
    return await withTimeout(`the ${job.relay} relay process`, timeoutMs, reports());
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/**
 * What the bench and its peer workers (a process per peer library, forked by peer-variants.ts) say to each other over
 * the IPC channel, and what both peers share. Imports nothing but node builtins and the bench's clock: each peer compiles
 * it against its own node_modules.
 */
import { startClock, type Measurement } from '../support/stats.js';

/** One run, on a queue the bench declared (and, to consume, filled with exactly `messages` messages) and deletes after. */
export interface PeerCommand {
  readonly mode: 'publish' | 'consume';
  readonly url: string;
  readonly exchange: string;
  /** The key the queue is bound to the exchange by. */
  readonly routingKey: string;
  readonly queue: string;
  readonly queueType: 'quorum' | 'classic';
  readonly messages: number;
}

/** What a run did: messages confirmed by the broker (publish) or handled and acked (consume), and how long it took. */
export interface PeerRun {
  readonly count: number;
  readonly measurement: Measurement;
}

export type PeerReply = ({ readonly ok: true } & PeerRun) | { readonly ok: false; readonly error: string };

/** Publishes awaiting their confirm at once: the raw baseline's window. */
export const IN_FLIGHT = 1000;
/** The raw baseline's and the Tidings consumer's prefetch. */
export const PREFETCH = 100;
/** As in consume.scenario.ts: a quorum queue applies acks asynchronously, and closing at once gives some back to the queue. */
export const ACK_GRACE_MS = 500;

/** The bench's event data (bench/rabbitmq/payload.ts, which the peers cannot import): its JSON is exactly 1 KiB. */
export const PAYLOAD = (() => {
  const lines = Array.from({ length: 8 }, (_, i) => ({ sku: `SKU-${1000 + i}`, quantity: i + 1, priceCents: 1999 + i * 100 }));
  const base = { orderId: '9f1c2a4e-3b6d-4c8f-a1e2-5d7b9c0f1a2b', customerId: 'c-000123', lines, note: '' };
  const data = { ...base, note: 'x'.repeat(1024 - Buffer.byteLength(JSON.stringify(base))) };
  if (Buffer.byteLength(JSON.stringify(data)) !== 1024) throw new Error('payload is not 1 KiB');
  return data;
})();

export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls `send` `count` times with at most `window` calls awaiting at once, as that many concurrent callers would. */
export async function inFlight(count: number, window: number, send: () => Promise<unknown>): Promise<void> {
  let started = 0;
  const caller = async (): Promise<void> => {
    while (started < count) {
      started++;
      await send();
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, caller));
}

/** Counts handled messages; `done` resolves with the measurement once `expected` were handled and their acks sent. */
export class Tally {
  count = 0;
  readonly done: Promise<Measurement>;
  private stop: (() => Measurement) | undefined;
  private finish!: (measurement: Measurement) => void;

  constructor(readonly expected: number) {
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  /** Starts the clock (only the first call counts). */
  start(): void {
    this.stop ??= startClock();
  }

  add(): void {
    if (++this.count !== this.expected) return;
    const stop = this.stop;
    if (!stop) throw new Error('a message arrived before the clock started');
    // The ack of the last message goes out in the microtasks after its handler: let them run.
    setImmediate(() => this.finish(stop()));
  }
}

/** Serves the bench's commands one at a time until it disconnects (or dies). */
export function serve(run: (command: PeerCommand) => Promise<PeerRun>): void {
  process.on('message', (command: PeerCommand) => {
    const reply = (message: PeerReply): void => void process.send?.(message);
    run(command).then(
      (result) => reply({ ok: true, ...result }),
      (error: unknown) => reply({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}

import { createEnvelope } from '../envelope/envelope.factory.js';
import { eventually } from '../conformance/eventually.js';
import type { Envelope } from '../envelope/envelope.js';
import { OutboxRelay } from './outbox-relay.js';
import type { OutboxClaim, OutboxClaimResult, OutboxRecord, OutboxStore } from './outbox.store.js';
import { RelayBackoff } from './relay-backoff.js';
import { ThroughputWindow } from './throughput-window.js';
import { WakeSignal } from './wake-signal.js';

/** A promise the test resolves when it chooses: publishing held until then. */
class Gate {
  private openGate: () => void = () => undefined;
  readonly passed = new Promise<void>((resolve) => {
    this.openGate = resolve;
  });
  open(): void {
    this.openGate();
  }
}

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** A store in memory for the relay's own logic; the real claim semantics are tested on PostgreSQL (test/typeorm). */
class ListStore implements OutboxStore {
  readonly pending: OutboxRecord[] = [];
  readonly completed: OutboxClaimResult[] = [];
  claimFailures = 0;
  /** Calls of {@link claim}, empty ones included. */
  claimCalls = 0;
  private claimed = new Set<string>();
  private next = 1;

  add(count: number, partitionKey?: string): void {
    for (let i = 0; i < count; i++) {
      const position = String(this.next++);
      const envelope = createEnvelope({ type: 't.x', version: 1, source: 's', data: { position }, ...(partitionKey && { partitionKey }) });
      this.pending.push({ position, attempts: 0, envelope });
    }
  }

  /** As the store contract has it: a keyed record is claimable only while no earlier record of its key is pending. */
  async claim(limit: number): Promise<OutboxClaim | undefined> {
    this.claimCalls += 1;
    if (this.claimFailures > 0) {
      this.claimFailures -= 1;
      throw new Error('database unavailable');
    }
    const isHead = (record: OutboxRecord, index: number): boolean =>
      record.envelope.partitionkey === undefined ||
      !this.pending.slice(0, index).some((earlier) => earlier.envelope.partitionkey === record.envelope.partitionkey);
    const records = this.pending.filter((r, index) => !this.claimed.has(r.position) && isHead(r, index)).slice(0, limit);
    if (records.length === 0) return undefined;
    for (const r of records) this.claimed.add(r.position);
    const release = async (): Promise<void> => {
      for (const r of records) this.claimed.delete(r.position);
    };
    return {
      records,
      release,
      complete: async (result) => {
        this.completed.push(result);
        for (const position of result.published)
          this.pending.splice(
            this.pending.findIndex((r) => r.position === position),
            1,
          );
        await release();
      },
    };
  }

  async backlog() {
    return { pending: this.pending.length, due: this.pending.length };
  }
}

describe('OutboxRelay', () => {
  it('drains the store in claims of batchSize and counts what it published', async () => {
    const store = new ListStore();
    store.add(25);
    const published: Envelope[] = [];
    const relay = new OutboxRelay(
      store,
      { publish: async (e) => void published.push(...e) },
      { batchSize: 10, batchesInFlight: 2, logger: quiet },
    );
    await relay.start();
    await eventually(() => expect(store.pending).toHaveLength(0));
    expect(published).toHaveLength(25);
    expect(relay.stats()).toMatchObject({ state: 'running', published: 25, claims: 3, failedAttempts: 0, consecutiveFailures: 0 });
    await relay.stop();
    expect(relay.stats().state).toBe('stopped');
  });

  it('claims right away when woken, without waiting for the poll', async () => {
    const store = new ListStore();
    const relay = new OutboxRelay(store, { publish: async () => undefined }, { pollIntervalMs: 600_000, logger: quiet });
    await relay.start();
    store.add(3);
    relay.wake();
    await eventually(() => expect(store.pending).toHaveLength(0), { timeoutMs: 2000 });
    await relay.stop();
  });

  it('sends one worker per commit while others are busy, not every busy worker again', async () => {
    const store = new ListStore();
    const gate = new Gate();
    const relay = new OutboxRelay(store, { publish: () => gate.passed }, { batchesInFlight: 4, pollIntervalMs: 600_000, logger: quiet });
    await relay.start();
    await eventually(() => expect(store.claimCalls).toBe(4)); // each worker looks once at start, then waits
    store.add(1);
    relay.wake();
    await eventually(() => expect(store.claimCalls).toBe(5));
    store.add(1);
    relay.wake(); // the first worker is busy publishing: an idle one claims the second record
    await eventually(() => expect(store.claimCalls).toBe(6));
    gate.open();
    await eventually(() => expect(store.pending).toHaveLength(0));
    await relay.stop();
    // Before: the first worker, busy when the second commit came, claimed again on finishing and found nothing.
    expect(store.claimCalls).toBe(6);
  });

  it('claims again after a keyed claim when a commit came meanwhile, so the next record of the key does not wait for the poll', async () => {
    const store = new ListStore();
    const gate = new Gate();
    const relay = new OutboxRelay(store, { publish: () => gate.passed }, { batchesInFlight: 4, pollIntervalMs: 600_000, logger: quiet });
    await relay.start();
    await eventually(() => expect(store.claimCalls).toBe(4));
    store.add(1, 'order-1');
    relay.wake();
    await eventually(() => expect(store.claimCalls).toBe(5));
    store.add(1, 'order-1');
    relay.wake(); // an idle worker finds the key held by the busy claim: nothing claimable yet
    await eventually(() => expect(store.claimCalls).toBe(6));
    gate.open();
    await eventually(() => expect(store.pending).toHaveLength(0), { timeoutMs: 2000 });
    expect(store.completed.flatMap((result) => result.published)).toEqual(['1', '2']);
    await relay.stop();
  });

  it('backs off after failures, reports them, and recovers', async () => {
    const store = new ListStore();
    store.claimFailures = 3;
    store.add(5);
    const warnings: string[] = [];
    const logger = { ...quiet, warn: (m: string) => void warnings.push(m) };
    const relay = new OutboxRelay(
      store,
      { publish: async () => undefined },
      { batchesInFlight: 1, backoff: { initialMs: 10, maxMs: 20 }, logger },
    );
    await relay.start();
    await eventually(() => expect(store.pending).toHaveLength(0));
    expect(relay.stats()).toMatchObject({ published: 5, consecutiveFailures: 0 });
    expect(relay.stats().lastError).toContain('database unavailable');
    expect(warnings).toEqual([expect.stringContaining('claiming outbox records failed: Error: database unavailable')]);
    await relay.stop();
  });

  it('refuses nonsensical options', () => {
    expect(() => new OutboxRelay(new ListStore(), { publish: async () => undefined }, { batchSize: 0 })).toThrow(
      /batchSize must be a positive integer/,
    );
  });
});

describe('RelayBackoff', () => {
  it('doubles up to the cap, jittered between half and all of the step, and resets on success', () => {
    const backoff = new RelayBackoff({ initialMs: 100, maxMs: 1000 }, () => 1);
    expect([backoff.failed(), backoff.failed(), backoff.failed(), backoff.failed(), backoff.failed()]).toEqual([100, 200, 400, 800, 1000]);
    expect(backoff.consecutiveFailures).toBe(5);
    backoff.succeeded();
    expect(new RelayBackoff({ initialMs: 100 }, () => 0).failed()).toBe(50);
    expect(backoff.consecutiveFailures).toBe(0);
  });
});

describe('WakeSignal', () => {
  it('returns at once for a notification since the given generation, else waits for the next one or the timeout', async () => {
    const signal = new WakeSignal();
    const seen = signal.current;
    signal.notify();
    await signal.wait(seen, 60_000);
    const waiting = signal.wait(signal.current, 60_000);
    signal.notify();
    await waiting;
    const started = Date.now();
    await signal.wait(signal.current, 20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });

  it('keeps a notification that found no waiter for one later caller only; one a waiter took, only for callers asking for any', async () => {
    const signal = new WakeSignal();
    const before = signal.current;
    signal.notify(); // nobody waits
    await signal.wait(before, 60_000); // taken
    const since = signal.current;
    const waiter = signal.wait(since, 60_000);
    signal.notify(); // handed to the waiter
    await waiter;
    await signal.wait(since, 60_000, true);
    const started = Date.now();
    await signal.wait(before, 20); // neither notification is left for it
    await signal.wait(since, 20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(30);
  });

  it('wakes one waiter per notify, and every waiter on notifyAll', async () => {
    const signal = new WakeSignal();
    const woken: string[] = [];
    const since = signal.current;
    const a = signal.wait(since, 60_000).then(() => woken.push('a'));
    const b = signal.wait(since, 60_000).then(() => woken.push('b'));
    const c = signal.wait(since, 60_000).then(() => woken.push('c'));
    signal.notify();
    await a;
    expect(woken).toEqual(['a']);
    signal.notifyAll();
    await Promise.all([b, c]);
    expect(woken).toEqual(['a', 'b', 'c']);
  });
});

describe('ThroughputWindow', () => {
  it('averages additions over the window and forgets older seconds', () => {
    let now = 10_000;
    const window = new ThroughputWindow(10_000, () => now);
    window.add(50);
    now += 1000;
    window.add(50);
    expect(window.perSecond()).toBe(10);
    now += 9500;
    expect(window.perSecond()).toBe(5);
    now += 1000;
    expect(window.perSecond()).toBe(0);
  });
});

import { createEnvelope } from '../envelope/envelope.factory.js';
import { eventually } from '../conformance/eventually.js';
import type { Envelope } from '../envelope/envelope.js';
import { OutboxRelay } from './outbox-relay.js';
import type { OutboxClaim, OutboxClaimResult, OutboxRecord, OutboxStore } from './outbox.store.js';
import { RelayBackoff } from './relay-backoff.js';
import { ThroughputWindow } from './throughput-window.js';
import { WakeSignal } from './wake-signal.js';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** A store in memory for the relay's own logic; the real claim semantics are tested on PostgreSQL (test/typeorm). */
class ListStore implements OutboxStore {
  readonly pending: OutboxRecord[] = [];
  readonly completed: OutboxClaimResult[] = [];
  claimFailures = 0;
  private claimed = new Set<string>();
  private next = 1;

  add(count: number): void {
    for (let i = 0; i < count; i++) {
      const position = String(this.next++);
      this.pending.push({ position, attempts: 0, envelope: createEnvelope({ type: 't.x', version: 1, source: 's', data: { position } }) });
    }
  }

  async claim(limit: number): Promise<OutboxClaim | undefined> {
    if (this.claimFailures > 0) {
      this.claimFailures -= 1;
      throw new Error('database unavailable');
    }
    const records = this.pending.filter((r) => !this.claimed.has(r.position)).slice(0, limit);
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

import { setTimeout as delay } from 'node:timers/promises';
import { createEnvelope, type Envelope } from '@tidings/core';

/** What a producer did over a run. */
export interface ProducerTally {
  /** Events in transactions that committed. */
  readonly committed: number;
  /** Transactions that failed (the database was away): their events were never sent, and the producer went on. */
  readonly failedTransactions: number;
}

/**
 * A service under load: commits `perTransaction` events every `intervalMs` until `total` are committed, and
 * keeps going through failures, as a service's request handlers would (a failed transaction is a failed request).
 */
export class LoadProducer {
  private committed = 0;
  private failedTransactions = 0;
  private ended = false;
  private readonly waiters = new Set<() => void>();
  private readonly running: Promise<void>;

  constructor(
    private readonly commit: (envelopes: readonly Envelope[]) => Promise<void>,
    private readonly options: {
      readonly type: string;
      readonly perTransaction: number;
      readonly intervalMs: number;
      readonly total: number;
    },
  ) {
    this.running = this.run();
  }

  /** Resolves once at least `count` events are committed (or the producer ended). */
  reached(count: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.committed < count && !this.ended) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Events committed so far. */
  get count(): number {
    return this.committed;
  }

  /** Resolves when `total` events are committed; the tally. */
  async finished(): Promise<ProducerTally> {
    await this.running;
    return this.tally();
  }

  private tally(): ProducerTally {
    return { committed: this.committed, failedTransactions: this.failedTransactions };
  }

  private async run(): Promise<void> {
    let seq = 0;
    while (this.committed < this.options.total) {
      const size = Math.min(this.options.perTransaction, this.options.total - this.committed);
      const batch = Array.from({ length: size }, () =>
        createEnvelope({ type: this.options.type, version: 1, source: 'fault-suite', data: { seq: seq++ } }),
      );
      try {
        await this.commit(batch);
        this.committed += size;
      } catch {
        this.failedTransactions += 1;
      }
      for (const wake of [...this.waiters]) wake();
      await delay(this.options.intervalMs);
    }
    this.ended = true;
    for (const wake of [...this.waiters]) wake();
  }
}

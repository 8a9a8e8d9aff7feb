import type pg from 'pg';
import type { DataSource, EntitySubscriberInterface, QueryRunner } from 'typeorm';
import { dedicatedClient } from './dedicated-connection.js';

type Listener = () => void;

/** How long the NOTIFY connection stays open without commits. */
const NOTIFIER_IDLE_MS = 1000;
/** Least time between two NOTIFYs of one channel from this process (their cost is per NOTIFY, not per commit). */
const NOTIFY_SPACING_MS = 2;

/**
 * Hears the commits of transactions that wrote outbox rows, through TypeORM's after-commit event,
 * and tells anyone waiting for them: relays in this process directly, relays elsewhere by a NOTIFY.
 *
 * Why not `pg_notify` inside the writer's transaction: PostgreSQL serialises the commits of all
 * transactions that notify (a database-wide lock held through the commit), which cut concurrent
 * producers' throughput by a third on this machine kind (0.61× of the same transactions without it).
 * After the commit, one NOTIFY at a time per process, at least 2 ms apart, coalescing the commits
 * made meanwhile: 0.87× (0.95× with `notify: false`; docs/benchmarks.md).
 */
export class CommitSignal {
  private static readonly byDataSource = new WeakMap<DataSource, CommitSignal>();

  /** The signal of `dataSource`, registering its after-commit subscriber the first time. */
  static of(dataSource: DataSource): CommitSignal {
    let signal = CommitSignal.byDataSource.get(dataSource);
    if (!signal) {
      signal = new CommitSignal(dataSource);
      CommitSignal.byDataSource.set(dataSource, signal);
    }
    return signal;
  }

  private readonly written = new WeakMap<QueryRunner, Set<string>>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly notifying = new Map<string, 'sending' | 'again'>();
  private readonly notifyChannels = new Set<string>();
  private notifier: Promise<pg.Client> | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private notifierBackend: number | undefined;
  private lastNotifyAt = 0;

  private constructor(private readonly dataSource: DataSource) {
    const subscriber: EntitySubscriberInterface = {
      afterTransactionCommit: ({ queryRunner }) => {
        // A savepoint release also fires this event; only the outermost commit makes rows visible.
        if (!queryRunner.isTransactionActive) this.committed(queryRunner);
      },
      afterTransactionRollback: ({ queryRunner }) => {
        if (!queryRunner.isTransactionActive) this.written.delete(queryRunner);
      },
    };
    dataSource.subscribers.push(subscriber);
  }

  /**
   * Whether a notification came from this process's own NOTIFY connection: relays here were woken by
   * the commit itself already, so they skip it.
   */
  sentBy(backendPid: number): boolean {
    return backendPid === this.notifierBackend;
  }

  /** Notes that `runner`'s transaction wrote rows announced on `channel`. */
  wrote(runner: QueryRunner, channel: string): void {
    const channels = this.written.get(runner);
    if (channels) channels.add(channel);
    else this.written.set(runner, new Set([channel]));
  }

  /** Send a NOTIFY on `channel` after each commit (for relays in other processes). */
  notifyOn(channel: string): void {
    this.notifyChannels.add(channel);
  }

  /** Calls `listener` after each commit that wrote rows for `channel`; returns the unsubscribe. */
  listen(channel: string, listener: Listener): () => void {
    const set = this.listeners.get(channel) ?? new Set();
    set.add(listener);
    this.listeners.set(channel, set);
    return () => set.delete(listener);
  }

  private committed(runner: QueryRunner): void {
    const channels = this.written.get(runner);
    if (!channels) return;
    this.written.delete(runner);
    for (const channel of channels) {
      for (const listener of this.listeners.get(channel) ?? []) listener();
      if (this.notifyChannels.has(channel)) this.notify(channel);
    }
  }

  /** On a connection of its own, so producers never wait for a pooled connection behind a NOTIFY. */
  private async sendNotify(channel: string): Promise<void> {
    clearTimeout(this.idleTimer);
    if (!this.dataSource.isInitialized) return;
    if (!this.notifier) {
      const client = dedicatedClient(this.dataSource, 'tidings-outbox-notifier');
      client.on('error', () => this.dropNotifier());
      this.notifier = client.connect().then(() => client);
    }
    const client = await this.notifier;
    this.notifierBackend = (client as pg.Client & { processID?: number }).processID;
    this.lastNotifyAt = Date.now();
    await client.query(`SELECT pg_notify($1, '')`, [channel]);
    // Closed when commits stop for a while, so a destroyed DataSource leaves no connection behind.
    this.idleTimer = setTimeout(() => this.dropNotifier(), NOTIFIER_IDLE_MS);
    this.idleTimer.unref();
  }

  private dropNotifier(): void {
    clearTimeout(this.idleTimer);
    const notifier = this.notifier;
    this.notifier = undefined;
    void notifier?.then((client) => client.end()).catch(() => undefined);
  }

  /** One NOTIFY in flight per channel; commits during it ask for one more, not one each. */
  private notify(channel: string): void {
    const state = this.notifying.get(channel);
    if (state !== undefined) {
      this.notifying.set(channel, 'again');
      return;
    }
    this.notifying.set(channel, 'sending');
    // Best effort: a lost NOTIFY only delays publishing until the relays' next poll.
    void this.sendNotify(channel)
      .catch(() => this.dropNotifier())
      .finally(() => {
        if (this.notifying.get(channel) !== 'again') {
          this.notifying.delete(channel);
          return;
        }
        // Commits came meanwhile: one more NOTIFY, spaced so a stream of commits costs a bounded rate of them.
        const wait = Math.max(0, this.lastNotifyAt + NOTIFY_SPACING_MS - Date.now());
        setTimeout(() => {
          this.notifying.delete(channel);
          this.notify(channel);
        }, wait).unref();
      });
  }
}

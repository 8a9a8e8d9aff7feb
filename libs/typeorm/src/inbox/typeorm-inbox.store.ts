import { ConfigurationError, type InboxKey, type InboxStore } from '@tidings/core';
import type { DataSource, EntityManager } from 'typeorm';
import { TransactionContext } from '../transaction/transaction-context.js';
import { inboxTableName, type InboxTableOptions } from './inbox-table.js';

/** Options of {@link TypeOrmInboxStore}. */
export interface TypeOrmInboxOptions extends InboxTableOptions {
  /**
   * The transaction context handlers' effects join (and the outbox, to publish from a handler
   * atomically). @default a context of its own on the data source
   */
  readonly transactions?: TransactionContext;
  /**
   * How long handled (consumer, message id) rows are kept before {@link TypeOrmInboxStore.purgeExpired}
   * deletes them; longer than any retry schedule (the event bus checks). @default 7 days
   */
  readonly retainHandledMs?: number;
}

/** What the inbox has seen: for metrics. */
export interface InboxStats {
  /** Deliveries handled (the inbox row and the effects committed). */
  readonly handled: number;
  /** Redeliveries of handled messages, acknowledged without running the handler. */
  readonly duplicatesSkipped: number;
}

/**
 * The idempotent inbox on PostgreSQL: one transaction per delivery inserts the (consumer, message id) row and runs
 * the handler, whose effects go through {@link manager} (or the shared {@link TransactionContext}) into the same
 * transaction. Both commit before the message is acked, or neither does. A redelivery of a handled message finds
 * the row and is skipped; a concurrent delivery of the same message waits on the row's lock and is skipped once the
 * first one commits (or runs, if it rolled back). Effect: exactly once per consumer.
 */
export class TypeOrmInboxStore implements InboxStore {
  readonly transactions: TransactionContext;
  readonly retentionMs: number;
  private readonly table: string;
  private counters = { handled: 0, duplicatesSkipped: 0 };

  constructor(
    private readonly dataSource: DataSource,
    options: TypeOrmInboxOptions = {},
  ) {
    this.table = inboxTableName(options);
    this.transactions = options.transactions ?? new TransactionContext(dataSource);
    this.retentionMs = options.retainHandledMs ?? 7 * 24 * 3600 * 1000;
    if (!(Number.isFinite(this.retentionMs) && this.retentionMs > 0)) {
      throw new ConfigurationError(
        `retainHandledMs must be a positive number of milliseconds, got ${this.retentionMs}`,
        'The default is 7 days.',
      );
    }
  }

  async runOnce(key: InboxKey, work: () => Promise<void>): Promise<boolean> {
    const ran = await this.transactions.begin(async (manager) => {
      const inserted: unknown[] = await manager.query(
        `INSERT INTO ${this.table} (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`,
        [key.consumer, key.messageId],
      );
      if (inserted.length === 0) return false;
      await work();
      return true;
    });
    if (ran) this.counters.handled += 1;
    else this.counters.duplicatesSkipped += 1;
    return ran;
  }

  /** The transaction of the delivery being handled: write the handler's effects with it. */
  manager(): EntityManager {
    return this.transactions.manager('TypeOrmInboxStore.manager()');
  }

  stats(): InboxStats {
    return { ...this.counters };
  }

  /** Deletes up to `limit` rows older than the retention; returns how many. */
  purgeExpired(limit = 10_000): Promise<number> {
    return this.deleteHandledBefore(new Date(Date.now() - this.retentionMs), limit);
  }

  /**
   * Deletes up to `limit` rows handled before `cutoff`; returns how many. Keep rows longer than the longest retry
   * schedule, so a late redelivery still finds its row; call repeatedly until it returns less than `limit`.
   */
  async deleteHandledBefore(cutoff: Date, limit = 10_000): Promise<number> {
    const rows: unknown = await this.dataSource.query(
      `DELETE FROM ${this.table} WHERE ctid IN (SELECT ctid FROM ${this.table} WHERE handled_at < $1 LIMIT $2)`,
      [cutoff, limit],
    );
    return Array.isArray(rows) && typeof rows[1] === 'number' ? rows[1] : 0;
  }
}

import { AsyncLocalStorage } from 'node:async_hooks';
import { TidingsError, type InboxKey, type InboxStore } from '@tidings/core';
import type { DataSource, EntityManager } from 'typeorm';
import { inboxTableName, type InboxTableOptions } from './inbox-table.js';

/** A handler asked for the inbox transaction outside of one. */
export class NoInboxTransactionError extends TidingsError {
  readonly code = 'TIDINGS_NO_INBOX_TRANSACTION';

  constructor() {
    super('No inbox transaction is active here', {
      hint: 'Call manager() only inside a handler of a subscription that uses this TypeOrmInboxStore, and not after an await that left it (e.g. a timer).',
    });
  }
}

/**
 * The idempotent inbox on PostgreSQL: one transaction per delivery inserts the (consumer, message id) row and runs
 * the handler, whose effects go through {@link manager} into the same transaction. Both commit before the message
 * is acked, or neither does. A redelivery of a handled message finds the row and is skipped; a concurrent
 * delivery of the same message waits on the row's lock and is skipped once the first one commits (or runs, if it
 * rolled back). Effect: exactly once per consumer.
 */
export class TypeOrmInboxStore implements InboxStore {
  private readonly table: string;
  private readonly transaction = new AsyncLocalStorage<EntityManager>();

  constructor(
    private readonly dataSource: DataSource,
    options: InboxTableOptions = {},
  ) {
    this.table = inboxTableName(options);
  }

  async runOnce(key: InboxKey, work: () => Promise<void>): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const inserted: unknown[] = await manager.query(
        `INSERT INTO ${this.table} (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`,
        [key.consumer, key.messageId],
      );
      if (inserted.length === 0) return false;
      await this.transaction.run(manager, work);
      return true;
    });
  }

  /** The transaction of the delivery being handled: write the handler's effects with it. */
  manager(): EntityManager {
    const manager = this.transaction.getStore();
    if (!manager) throw new NoInboxTransactionError();
    return manager;
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

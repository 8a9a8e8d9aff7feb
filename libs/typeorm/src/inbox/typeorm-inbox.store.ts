import { ConfigurationError, type InboxEntryResult, type InboxGroupEntry, type InboxKey, type InboxStore } from '@tidings/core';
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
  /**
   * How group commit keeps one delivery's failure from undoing the others. `'on-failure'`: run the group without
   * savepoints and, only if a handler throws, roll back and run it again with a savepoint per delivery, leaving out
   * the one that threw; a handler may then run twice, its first run rolled back, so effects outside the transaction
   * must tolerate that (as they tolerate redelivery). `'always'`: a savepoint per delivery from the start, which costs
   * a round trip per delivery and runs each handler once per group. @default 'on-failure'
   */
  readonly savepoints?: 'on-failure' | 'always';
}

/** The savepoint each delivery of a group runs in. */
const SAVEPOINT = 'tidings_delivery';
const HANDLED: InboxEntryResult = { kind: 'handled' };
const DUPLICATE: InboxEntryResult = { kind: 'duplicate' };

/** Abandons a group's transaction (rolled back) after the handler of entry `index` threw `cause`. */
class GroupFailed extends Error {
  constructor(
    readonly index: number,
    override readonly cause: unknown,
  ) {
    super(`the handler of entry ${index} of the group failed`);
  }
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
 *
 * Group commit ({@link runGroup}) and batches ({@link runBatch}) share one transaction among many deliveries: one
 * statement claims all their rows, and a delivery's handler runs in a savepoint so its failure undoes only its work.
 */
export class TypeOrmInboxStore implements InboxStore {
  readonly transactions: TransactionContext;
  readonly retentionMs: number;
  private readonly table: string;
  private readonly savepoints: 'on-failure' | 'always';
  private counters = { handled: 0, duplicatesSkipped: 0 };

  constructor(
    private readonly dataSource: DataSource,
    options: TypeOrmInboxOptions = {},
  ) {
    this.table = inboxTableName(options);
    this.transactions = options.transactions ?? new TransactionContext(dataSource);
    this.retentionMs = options.retainHandledMs ?? 7 * 24 * 3600 * 1000;
    this.savepoints = options.savepoints ?? 'on-failure';
    if (this.savepoints !== 'on-failure' && this.savepoints !== 'always') {
      throw new ConfigurationError(
        `savepoints must be 'on-failure' or 'always', got ${String(this.savepoints)}`,
        "Leave it out for 'on-failure'.",
      );
    }
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
    this.count(ran ? 1 : 0, ran ? 0 : 1);
    return ran;
  }

  /**
   * Group commit. In the default mode the entries run first without savepoints, which costs a round trip less per
   * delivery; if one throws, that transaction is rolled back and the group runs again with a savepoint per delivery,
   * leaving out the entry that threw. So a handler's work can run twice when another of its group fails, the first
   * run rolled back (see {@link TypeOrmInboxOptions.savepoints}).
   */
  async runGroup(consumer: string, entries: readonly InboxGroupEntry[]): Promise<readonly InboxEntryResult[]> {
    let failure: GroupFailed | undefined;
    let results: readonly InboxEntryResult[] | undefined;
    if (this.savepoints === 'on-failure') {
      try {
        results = await this.transactions.begin((manager) => this.runUnprotected(manager, consumer, entries));
      } catch (error) {
        if (!(error instanceof GroupFailed)) throw error;
        failure = error;
      }
    }
    results ??= await this.transactions.begin((manager) => this.runInSavepoints(manager, consumer, entries, failure));
    this.count(results.filter((r) => r.kind === 'handled').length, results.filter((r) => r.kind === 'duplicate').length);
    return results;
  }

  /**
   * Every fresh entry's work in the transaction as is, one after another as in {@link runInSavepoints}: handlers of
   * one transaction run at once would see each other's uncommitted rows and take no locks against each other, which
   * read-modify-write code written for a transaction of its own does not expect. If any throws, the whole group is
   * abandoned ({@link GroupFailed}) with the entry to blame.
   */
  private async runUnprotected(manager: EntityManager, consumer: string, entries: readonly InboxGroupEntry[]): Promise<InboxEntryResult[]> {
    const fresh = await this.claim(
      manager,
      consumer,
      entries.map((entry) => entry.messageId),
    );
    const out: InboxEntryResult[] = [];
    for (let index = 0; index < entries.length; index++) {
      if (!fresh.has(index)) {
        out.push(DUPLICATE);
        continue;
      }
      try {
        await (entries[index] as InboxGroupEntry).work();
      } catch (error) {
        throw new GroupFailed(index, error);
      }
      out.push(HANDLED);
    }
    return out;
  }

  /**
   * Each fresh entry's work in a savepoint of its own, so one that throws undoes only its work. The entry of `failure`
   * already threw in an earlier run of the group: it is not claimed (a retry then runs it) nor run again.
   */
  private async runInSavepoints(
    manager: EntityManager,
    consumer: string,
    entries: readonly InboxGroupEntry[],
    failure: GroupFailed | undefined,
  ): Promise<InboxEntryResult[]> {
    const fresh = await this.claim(
      manager,
      consumer,
      entries.map((entry) => entry.messageId),
      failure?.index,
    );
    const out: InboxEntryResult[] = [];
    let savepoint = false;
    for (const [index, entry] of entries.entries()) {
      if (index === failure?.index) {
        out.push({ kind: 'failed', error: failure.cause });
        continue;
      }
      if (!fresh.has(index)) {
        out.push(DUPLICATE);
        continue;
      }
      // One round trip per delivery: the previous savepoint is released as the next is set (COMMIT releases the last).
      await manager.query(savepoint ? `RELEASE SAVEPOINT ${SAVEPOINT}; SAVEPOINT ${SAVEPOINT}` : `SAVEPOINT ${SAVEPOINT}`);
      savepoint = true;
      try {
        await entry.work();
        out.push(HANDLED);
      } catch (error) {
        await manager.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
        // Its row was claimed with the group's, outside its savepoint: free it so the retry runs the handler.
        await manager.query(`DELETE FROM ${this.table} WHERE consumer = $1 AND message_id = $2`, [consumer, entry.messageId]);
        out.push({ kind: 'failed', error });
      }
    }
    return out;
  }

  async runBatch(
    consumer: string,
    messageIds: readonly string[],
    work: (fresh: readonly number[]) => Promise<void>,
  ): Promise<readonly number[]> {
    const fresh = await this.transactions.begin(async (manager) => {
      const claimed = [...(await this.claim(manager, consumer, messageIds))];
      await work(claimed);
      return claimed;
    });
    this.count(fresh.length, messageIds.length - fresh.length);
    return fresh;
  }

  /**
   * Inserts the rows of `ids` in one statement, leaving out the one at index `skipped` (if given); returns the indexes
   * of those inserted now (first occurrences), in ascending order. The ids are inserted in sorted order, so two groups
   * claiming overlapping ids lock them in the same order and never deadlock; a row another transaction holds
   * uncommitted makes this wait, as {@link runOnce} does.
   */
  private async claim(manager: EntityManager, consumer: string, ids: readonly string[], skipped?: number): Promise<Set<number>> {
    const inserted: { message_id: string }[] = await manager.query(
      `INSERT INTO ${this.table} (consumer, message_id)
       SELECT $1, id FROM (SELECT DISTINCT unnest($2::text[]) AS id) AS ids ORDER BY id
       ON CONFLICT DO NOTHING RETURNING message_id`,
      [consumer, skipped === undefined ? ids : ids.filter((_, index) => index !== skipped)],
    );
    const claimed = new Set(inserted.map((row) => row.message_id));
    const fresh = new Set<number>();
    ids.forEach((id, index) => {
      if (index !== skipped && claimed.delete(id)) fresh.add(index);
    });
    return fresh;
  }

  private count(handled: number, duplicatesSkipped: number): void {
    this.counters.handled += handled;
    this.counters.duplicatesSkipped += duplicatesSkipped;
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

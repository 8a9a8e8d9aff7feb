import {
  ConfigurationError,
  EncodeError,
  envelopeWithSerializedData,
  type Envelope,
  type OutboxBacklog,
  type OutboxClaim,
  type OutboxRecord,
  type OutboxStore,
  type OutboxWatch,
  type TidingsLogger,
} from '@tidings/core';
import type { DataSource, EntityManager } from 'typeorm';
import { NoTransactionError } from '../transaction/no-transaction.error.js';
import { CommitSignal } from './commit-signal.js';
import { OutboxListener } from './outbox-listener.js';
import { outboxSql, type OutboxSql } from './outbox-sql.js';
import { outboxTable, type OutboxTableOptions } from './outbox-table.js';
import { PostgresOutboxClaim } from './postgres-outbox.claim.js';

/** Options of {@link TypeOrmOutboxStore}. */
export interface TypeOrmOutboxStoreOptions extends OutboxTableOptions {
  /**
   * Keep published rows this long (marked with `published_at`), then the relay purges them in
   * bounded batches. 0 deletes each row as soon as the broker confirms it (fastest; nothing to purge).
   * @default 0
   */
  readonly retainPublishedMs?: number;
  /**
   * After each commit that wrote rows, send a NOTIFY (at most one at a time, 2 ms apart, per process)
   * so relays in *other* processes wake at once. Relays in this process (such as the one
   * `EventBusModule` runs beside its writers) are woken by the commit itself and need none of it, so
   * it is off by default: it costs concurrent producers about 8% (docs/benchmarks.md). Turn it on in
   * writers whose relay runs elsewhere; without it, such a relay finds their rows at its next poll.
   * @default false
   */
  readonly notify?: boolean;
  /** Where the NOTIFY listener logs reconnects. @default none */
  readonly logger?: TidingsLogger;
}

/** Options of one {@link TypeOrmOutboxStore.add}. */
export interface OutboxAddOptions {
  /** Publish no earlier than this. @default now */
  readonly deliverAt?: Date;
}

/**
 * A claim looks at ids up to `limit × this` past the oldest due row: room for the rows other claims hold
 * locked (the defaults keep 4 in flight) while keeping a claim's cost independent of the backlog's depth.
 */
const CLAIM_WINDOW_FACTOR = 8;

interface ClaimedRow {
  readonly position: string;
  readonly partition_key: string | null;
  /** The attributes; the whole envelope, data included, in rows written before the `data` column. */
  readonly envelope: Envelope;
  /** The payload's JSON text; NULL in rows written before the `data` column. */
  readonly data: string | null;
  readonly attempts: number;
}

const toRecord = (row: ClaimedRow): OutboxRecord => ({
  position: row.position,
  envelope: row.data === null ? row.envelope : envelopeWithSerializedData(row.envelope, row.data),
  attempts: row.attempts,
});

/** The insert's parameters for one envelope: its attributes and its data, each as JSON. */
function serialize(envelope: Envelope): { readonly attributes: string; readonly data: string } {
  const { data, ...attributes } = envelope;
  try {
    // undefined data is stored (and published) as null, as JSON.stringify of the whole envelope left it out.
    return { attributes: JSON.stringify(attributes), data: JSON.stringify(data) ?? 'null' };
  } catch (cause) {
    throw new EncodeError(envelope.type, cause);
  }
}

interface BacklogRow {
  readonly pending: number;
  readonly due: number;
  readonly oldest_due_at: Date | null;
}

const byPosition = (a: ClaimedRow, b: ClaimedRow): number =>
  a.position.length - b.position.length || (a.position < b.position ? -1 : a.position > b.position ? 1 : 0);

/**
 * The transactional outbox on PostgreSQL through TypeORM. {@link add} writes events with the caller's
 * transaction; the rest is the {@link OutboxStore} an `OutboxRelay` drains.
 */
export class TypeOrmOutboxStore implements OutboxStore {
  private readonly sql: OutboxSql;
  private readonly channel: string;
  private readonly retainSeconds: number;
  private readonly commits: CommitSignal;

  constructor(
    readonly dataSource: DataSource,
    private readonly options: TypeOrmOutboxStoreOptions = {},
  ) {
    const table = outboxTable(options);
    this.sql = outboxSql(table);
    this.channel = table.channel;
    const retain = options.retainPublishedMs ?? 0;
    if (!(Number.isFinite(retain) && retain >= 0)) {
      throw new ConfigurationError(
        `retainPublishedMs must be 0 or more milliseconds, got ${retain}`,
        'Use 0 to delete rows once published.',
      );
    }
    this.retainSeconds = retain / 1000;
    this.commits = CommitSignal.of(dataSource);
    if (options.notify ?? false) this.commits.notifyOn(this.channel);
  }

  /**
   * Writes `envelopes` as outbox rows with `manager`, which must be inside a transaction: they commit
   * with the caller's changes (relays are woken right after the commit), or roll back with them.
   */
  async add(manager: EntityManager, envelopes: readonly Envelope[], options: OutboxAddOptions = {}): Promise<void> {
    if (envelopes.length === 0) return;
    if (!manager.queryRunner?.isTransactionActive) throw new NoTransactionError('Writing to the outbox');
    const runner = manager.queryRunner;
    const serialized = envelopes.map(serialize);
    const deliverAt = options.deliverAt;
    if (deliverAt !== undefined && Number.isNaN(deliverAt.getTime())) {
      throw new ConfigurationError('Outbox deliverAt is an invalid Date', 'Pass a valid Date, or omit deliverAt to publish now.');
    }
    const [only] = envelopes;
    const [first] = serialized;
    if (envelopes.length === 1 && only && first) {
      await manager.query(this.sql.insertOne, [
        only.id,
        only.type,
        only.partitionkey ?? null,
        first.attributes,
        first.data,
        deliverAt ?? null,
      ]);
    } else {
      await manager.query(this.sql.insertMany, [
        envelopes.map((e) => e.id),
        envelopes.map((e) => e.type),
        envelopes.map((e) => e.partitionkey ?? null),
        serialized.map((s) => s.attributes),
        serialized.map((s) => s.data),
        deliverAt ?? null,
      ]);
    }
    this.commits.wrote(runner, this.channel);
  }

  async claim(limit: number): Promise<OutboxClaim | undefined> {
    const runner = this.dataSource.createQueryRunner('master');
    try {
      await runner.connect();
      await runner.startTransaction();
      const heads: ClaimedRow[] = await runner.query(this.sql.claimHeads, [limit, limit * CLAIM_WINDOW_FACTOR]);
      if (heads.length === 0) {
        await runner.rollbackTransaction();
        await runner.release();
        return undefined;
      }
      let rows = heads;
      const owned = heads.filter((row) => row.partition_key !== null);
      if (owned.length > 0 && heads.length < limit) {
        const followers: ClaimedRow[] = await runner.query(this.sql.claimFollowers, [
          owned.map((row) => row.partition_key),
          owned.map((row) => row.position),
          limit - heads.length,
        ]);
        if (followers.length > 0) rows = [...heads, ...followers].sort(byPosition);
      }
      const records = rows.map(toRecord);
      return new PostgresOutboxClaim(runner, records, this.sql, this.retainSeconds > 0);
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      await runner.release().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Wakes `wake` after every commit that wrote rows: at once for writers in this process (TypeORM's
   * after-commit event), through `LISTEN` for writers in other processes (their after-commit NOTIFY).
   */
  async watch(wake: () => void, onError: (error: Error) => void): Promise<OutboxWatch> {
    const unlisten = this.commits.listen(this.channel, wake);
    try {
      const isOwn = (pid: number): boolean => this.commits.sentBy(pid);
      const listener = await new OutboxListener(this.dataSource, this.channel, wake, onError, isOwn, this.options.logger).open();
      return {
        close: async () => {
          unlisten();
          await listener.close();
        },
      };
    } catch (error) {
      unlisten();
      throw error;
    }
  }

  async backlog(): Promise<OutboxBacklog> {
    const [row]: BacklogRow[] = await this.dataSource.query(this.sql.backlog);
    return {
      pending: row?.pending ?? 0,
      due: row?.due ?? 0,
      ...(row?.oldest_due_at && { oldestDueAt: new Date(row.oldest_due_at) }),
    };
  }

  async purgePublished(limit: number): Promise<number> {
    if (this.retainSeconds === 0) return 0;
    const result: unknown = await this.dataSource.query(this.sql.purge, [this.retainSeconds, limit]);
    return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
  }
}

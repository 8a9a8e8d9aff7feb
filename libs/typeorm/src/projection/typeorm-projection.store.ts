import {
  ConfigurationError,
  ProjectionRebuildRunningError,
  type Checkpoint,
  type CopyStatus,
  type ProjectedEvent,
  type ProjectionCommit,
  type ProjectionCopy,
  type ProjectionStatus,
  type ProjectionStore,
  type SkippedEvent,
  type SwapCatchUp,
} from '@tidings/core';
import type { DataSource, EntityManager } from 'typeorm';
import type { TransactionContext } from '../transaction/transaction-context.js';
import { createBookkeeping } from './projection-bookkeeping.js';
import { ProjectionCopies } from './projection-copies.js';

/** The transaction a TypeORM projection handler writes in: its manager, and the schema of the copy being written. */
export interface TypeOrmProjectionTx {
  readonly manager: EntityManager;
  /** Schema of the read-model copy this transaction writes: the live one, or the one a rebuild fills. Qualify every table with it. */
  readonly schema: string;
}

/** Options of a {@link TypeOrmProjectionStore}. */
export interface TypeOrmProjectionStoreOptions {
  /** The projection's name (`@Projection('feed')`). */
  readonly projection: string;
  /** Schema of the live copy, the one readers query; rebuilds use `<schema>__rebuild`. Holds nothing else. */
  readonly schema: string;
  /**
   * When given, commits run through it, so repositories that join its current transaction write in the batch's.
   * Its DataSource must be `dataSource`.
   */
  readonly transactions?: TransactionContext;
  /**
   * How many log positions back the ids of applied events are kept, to apply an event published twice only once.
   * Duplicates from the outbox relay follow the original within seconds. @default 1000000
   */
  readonly dedupeWindow?: number;
}

interface CheckpointRow {
  readonly copy_id: string;
  readonly position: string;
  readonly updated_at: Date;
}

const toCheckpoint = (row: CheckpointRow): Checkpoint => ({ copyId: row.copy_id, position: Number(row.position) });

/**
 * A projection's read-model copies in PostgreSQL, one schema each (see {@link ProjectionCopies}), each with its
 * checkpoint committed in the same transaction as the changes it covers.
 *
 * The swap locks the live checkpoint table in EXCLUSIVE mode before renaming the schemas: a live runner's commit
 * that arrives meanwhile waits at that lock, and PostgreSQL, seeing the rename once it gets the lock, resolves the
 * name again, to the new copy, whose identity differs from the runner's, so it rereads from the new checkpoint.
 */
export class TypeOrmProjectionStore implements ProjectionStore<TypeOrmProjectionTx> {
  readonly copies: ProjectionCopies;
  private readonly projection: string;
  private readonly dedupeWindow: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: TypeOrmProjectionStoreOptions,
  ) {
    this.projection = options.projection;
    this.copies = new ProjectionCopies(options.projection, options.schema);
    this.dedupeWindow = options.dedupeWindow ?? 1_000_000;
    if (!Number.isSafeInteger(this.dedupeWindow) || this.dedupeWindow < 1) {
      throw new ConfigurationError(
        `Projection ${this.projection}: dedupeWindow must be a whole number from 1`,
        'Leave it out for the default.',
      );
    }
  }

  open(copy: ProjectionCopy, create: (tx: TypeOrmProjectionTx) => Promise<void>): Promise<Checkpoint> {
    const schema = this.copies.of(copy);
    return this.transaction(async (manager) => {
      await this.lockCopies(manager);
      const existing = await this.readCheckpoint(manager, schema);
      if (existing) return existing;
      await this.checkSchemaIsFree(manager, schema);
      await manager.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await createBookkeeping(manager, schema);
      await create({ manager, schema });
      const rows: CheckpointRow[] = await manager.query(
        `INSERT INTO "${schema}".tidings_checkpoint (projection, copy_id, position) VALUES ($1, gen_random_uuid(), 0) RETURNING copy_id, position, updated_at`,
        [this.projection],
      );
      return toCheckpoint(rows[0]!);
    });
  }

  async checkpoint(copy: ProjectionCopy): Promise<Checkpoint | undefined> {
    return this.readCheckpoint(this.dataSource.manager, this.copies.of(copy));
  }

  commit(copy: ProjectionCopy, commit: ProjectionCommit<TypeOrmProjectionTx>): Promise<boolean> {
    return this.transaction((manager) => this.commitIn(manager, this.copies.of(copy), commit));
  }

  swap(catchUp: SwapCatchUp<TypeOrmProjectionTx>): Promise<void> {
    const { live, rebuild, retired } = this.copies;
    return this.transaction(async (manager) => {
      await this.lockCopies(manager);
      const liveExists = await this.hasCheckpointTable(manager, live);
      if (liveExists) await manager.query(`LOCK TABLE "${live}".tidings_checkpoint IN EXCLUSIVE MODE`);
      const liveCheckpoint = liveExists ? await this.readCheckpoint(manager, live) : undefined;
      const rebuildCheckpoint = await this.readCheckpoint(manager, rebuild, 'FOR UPDATE');
      if (!rebuildCheckpoint) {
        throw new ConfigurationError(`Projection ${this.projection} has no rebuild copy to swap in`, 'Run the rebuild; it creates one.');
      }
      await catchUp(liveCheckpoint, rebuildCheckpoint, async (commit) => {
        if (!(await this.commitIn(manager, rebuild, commit))) {
          throw new Error(`the rebuild copy of projection ${this.projection} moved during the swap`);
        }
      });
      if (liveExists) await manager.query(`ALTER SCHEMA "${live}" RENAME TO "${retired}"`);
      else if (await this.schemaExists(manager, live)) await manager.query(`DROP SCHEMA "${live}"`);
      await manager.query(`ALTER SCHEMA "${rebuild}" RENAME TO "${live}"`);
    });
  }

  async dropRetired(): Promise<void> {
    await this.dataSource.query(`DROP SCHEMA IF EXISTS "${this.copies.retired}" CASCADE`);
  }

  async lockRebuild(): Promise<() => Promise<void>> {
    // A session lock on a connection of its own: held while the rebuild runs, released if the process dies.
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    const key = this.lockKey('rebuild');
    try {
      const rows: Array<{ locked: boolean }> = await runner.query('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [key]);
      if (!rows[0]?.locked) throw new ProjectionRebuildRunningError(this.projection);
    } catch (error) {
      await runner.release();
      throw error;
    }
    return async () => {
      try {
        await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
      } finally {
        await runner.release();
      }
    };
  }

  async status(): Promise<ProjectionStatus> {
    const [live, rebuild, rebuildRunning] = await Promise.all([
      this.copyStatus(this.copies.live),
      this.copyStatus(this.copies.rebuild),
      this.rebuildRunning(),
    ]);
    return { ...(live && { live }), ...(rebuild && { rebuild }), rebuildRunning };
  }

  async skipped(copy: ProjectionCopy, limit: number): Promise<SkippedEvent[]> {
    const schema = this.copies.of(copy);
    if (!(await this.hasCheckpointTable(this.dataSource.manager, schema))) return [];
    const rows: Array<{ position: string; event_id: string | null; type: string | null; code: string; reason: string }> =
      await this.dataSource.query(
        `SELECT position, event_id, type, code, reason FROM "${schema}".tidings_skipped ORDER BY position DESC LIMIT $1`,
        [limit],
      );
    return rows.map((r) => ({
      position: Number(r.position),
      eventId: r.event_id ?? undefined,
      type: r.type ?? undefined,
      code: r.code,
      reason: r.reason,
    }));
  }

  private async commitIn(manager: EntityManager, schema: string, commit: ProjectionCommit<TypeOrmProjectionTx>): Promise<boolean> {
    // One statement checks that the copy is where the batch was read from, locks its checkpoint and moves it; nothing
    // else is written unless it did. (The transaction makes the move and the changes one.)
    const moved: unknown[] = await manager.query(
      `WITH moved AS (
         UPDATE "${schema}".tidings_checkpoint SET position = $1, updated_at = now()
         WHERE projection = $2 AND copy_id = $3 AND position = $4
         RETURNING position
       ) SELECT position FROM moved`,
      [commit.to, this.projection, commit.from.copyId, commit.from.position],
    );
    if (moved.length === 0) return false;
    const fresh = await this.freshEvents(manager, schema, commit.events);
    if (fresh.length > 0) await commit.apply({ manager, schema }, fresh);
    if (commit.skipped.length > 0) {
      const s = commit.skipped;
      await manager.query(
        `INSERT INTO "${schema}".tidings_skipped (position, event_id, type, code, reason)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) ON CONFLICT (position) DO NOTHING`,
        [
          s.map((e) => e.position),
          s.map((e) => e.eventId ?? null),
          s.map((e) => e.type ?? null),
          s.map((e) => e.code),
          s.map((e) => e.reason),
        ],
      );
    }
    // Prune each time the checkpoint crosses a tenth of the window: rare, and the table stays within 1.1 windows.
    const step = Math.max(1, Math.floor(this.dedupeWindow / 10));
    if (Math.floor(commit.to / step) > Math.floor(commit.from.position / step)) {
      await manager.query(`DELETE FROM "${schema}".tidings_applied WHERE position < $1`, [commit.to - this.dedupeWindow]);
    }
    return true;
  }

  /** Records the events' ids; those recorded before (or twice in this batch) are left out. */
  private async freshEvents(manager: EntityManager, schema: string, events: readonly ProjectedEvent[]): Promise<ProjectedEvent[]> {
    if (events.length === 0) return [];
    const rows: Array<{ position: string }> = await manager.query(
      `INSERT INTO "${schema}".tidings_applied (event_id, position) SELECT * FROM unnest($1::text[], $2::bigint[])
       ON CONFLICT DO NOTHING RETURNING position`,
      [events.map((e) => e.envelope.id), events.map((e) => e.position)],
    );
    if (rows.length === events.length) return [...events];
    const inserted = new Set(rows.map((r) => Number(r.position)));
    return events.filter((e) => inserted.has(e.position));
  }

  private async readCheckpoint(manager: EntityManager, schema: string, lock = ''): Promise<Checkpoint | undefined> {
    if (!(await this.hasCheckpointTable(manager, schema))) return undefined;
    const rows: CheckpointRow[] = await manager.query(
      `SELECT copy_id, position, updated_at FROM "${schema}".tidings_checkpoint WHERE projection = $1 ${lock}`,
      [this.projection],
    );
    return rows[0] && toCheckpoint(rows[0]);
  }

  private async copyStatus(schema: string): Promise<CopyStatus | undefined> {
    if (!(await this.hasCheckpointTable(this.dataSource.manager, schema))) return undefined;
    try {
      const rows: Array<CheckpointRow & { skipped: string }> = await this.dataSource.query(
        `SELECT copy_id, position, updated_at, (SELECT count(*) FROM "${schema}".tidings_skipped) AS skipped
         FROM "${schema}".tidings_checkpoint WHERE projection = $1`,
        [this.projection],
      );
      const row = rows[0];
      return row && { ...toCheckpoint(row), updatedAt: row.updated_at, skipped: Number(row.skipped) };
    } catch (error) {
      // Renamed or dropped between the check and the read (a swap): report what is there now.
      if (!(await this.hasCheckpointTable(this.dataSource.manager, schema))) return undefined;
      throw error;
    }
  }

  private async rebuildRunning(): Promise<boolean> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    const key = this.lockKey('rebuild');
    try {
      const rows: Array<{ locked: boolean }> = await runner.query('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [key]);
      if (rows[0]?.locked) await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
      return !rows[0]?.locked;
    } finally {
      await runner.release();
    }
  }

  /** Serialises creating copies and swapping them (two processes opening the live copy at once, say). */
  private async lockCopies(manager: EntityManager): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.lockKey('copies')]);
  }

  private lockKey(what: string): string {
    return `tidings.projection.${what}:${this.copies.live}`;
  }

  private async hasCheckpointTable(manager: EntityManager, schema: string): Promise<boolean> {
    const rows: Array<{ name: string | null }> = await manager.query('SELECT to_regclass($1)::text AS name', [
      `"${schema}".tidings_checkpoint`,
    ]);
    return rows[0]?.name != null;
  }

  private async schemaExists(manager: EntityManager, schema: string): Promise<boolean> {
    const rows: Array<{ exists: boolean }> = await manager.query(
      'SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS exists',
      [schema],
    );
    return rows[0]?.exists === true;
  }

  /** A schema that exists and holds tables but no checkpoint is someone's data: never build a copy into it. */
  private async checkSchemaIsFree(manager: EntityManager, schema: string): Promise<void> {
    const rows: Array<{ tables: string }> = await manager.query(
      `SELECT count(*) AS tables FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm')`,
      [schema],
    );
    if (Number(rows[0]?.tables ?? 0) > 0) {
      throw new ConfigurationError(
        `Schema ${schema} holds tables but is not a copy of projection ${this.projection} (it has no tidings_checkpoint)`,
        `Give the projection a schema of its own, or drop ${schema} if its tables are an older, pre-projection read model.`,
        { projection: this.projection, schema },
      );
    }
  }

  private transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.options.transactions ? this.options.transactions.begin(work) : this.dataSource.transaction(work);
  }
}

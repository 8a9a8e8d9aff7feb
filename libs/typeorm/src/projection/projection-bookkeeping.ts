import type { EntityManager } from 'typeorm';

/**
 * The bookkeeping tables of one read-model copy, in the copy's schema:
 * - `tidings_checkpoint`: one row, the copy's identity and position in the event log;
 * - `tidings_applied`: ids of the events applied lately, so an event the relay published twice (it may, after a
 *   crash between the broker's confirm and marking the row) is applied once; pruned to a window of positions;
 * - `tidings_skipped`: events the projection passed over (malformed, invalid, or a handler's deterministic error).
 */
export async function createBookkeeping(manager: EntityManager, schema: string): Promise<void> {
  const s = `"${schema}"`;
  await manager.query(
    `CREATE TABLE ${s}.tidings_checkpoint (
       projection text PRIMARY KEY,
       copy_id uuid NOT NULL,
       position bigint NOT NULL CHECK (position >= 0),
       created_at timestamptz NOT NULL DEFAULT now(),
       updated_at timestamptz NOT NULL DEFAULT now()
     )`,
  );
  await manager.query(`CREATE TABLE ${s}.tidings_applied (event_id text PRIMARY KEY, position bigint NOT NULL)`);
  await manager.query(`CREATE INDEX tidings_applied_position_idx ON ${s}.tidings_applied (position)`);
  await manager.query(
    `CREATE TABLE ${s}.tidings_skipped (
       position bigint PRIMARY KEY,
       event_id text,
       type text,
       code text NOT NULL,
       reason text NOT NULL,
       skipped_at timestamptz NOT NULL DEFAULT now()
     )`,
  );
}

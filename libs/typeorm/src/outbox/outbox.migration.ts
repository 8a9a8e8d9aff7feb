import type { MigrationInterface, QueryRunner } from 'typeorm';
import type { MigrationClass } from '../schema/migration-class.js';
import { outboxTable, type OutboxTableOptions } from './outbox-table.js';

/**
 * The outbox table's migrations, in order, to list with your own: `migrations: [...yours, ...createOutboxMigrations()]`.
 *
 * 1. The table. `id` is the insertion order the relay publishes in. Pending rows have `published_at` NULL; stores
 *    that delete on publish never set it. The partial indexes cover exactly the relay's queries: the scan of pending
 *    rows by id, and the per-key lookup that keeps partition keys in order.
 * 2. The `data` column: the event's payload apart from its attributes, so the relay sends the stored JSON to the
 *    broker as it is instead of parsing and re-serializing it (ADR 0012). Rows written before it keep their payload
 *    inside `envelope`, and the relay reads both kinds.
 */
export function createOutboxMigrations(options: OutboxTableOptions = {}): MigrationClass[] {
  const name = outboxTable(options);
  const table = name.qualified;
  return [
    class TidingsOutbox1795300000000 implements MigrationInterface {
      readonly name = 'TidingsOutbox1795300000000';

      async up(runner: QueryRunner): Promise<void> {
        await runner.query(
          `CREATE TABLE IF NOT EXISTS ${table} (
             id bigserial PRIMARY KEY,
             message_id text NOT NULL,
             type text NOT NULL,
             partition_key text,
             envelope json NOT NULL,
             created_at timestamptz NOT NULL DEFAULT now(),
             deliver_at timestamptz NOT NULL DEFAULT now(),
             published_at timestamptz,
             attempts integer NOT NULL DEFAULT 0,
             last_error text
           )`,
        );
        await runner.query(`CREATE INDEX IF NOT EXISTS ${name.index('pending_idx')} ON ${table} (id) WHERE published_at IS NULL`);
        await runner.query(
          `CREATE INDEX IF NOT EXISTS ${name.index('pending_key_idx')} ON ${table} (partition_key, id) WHERE published_at IS NULL AND partition_key IS NOT NULL`,
        );
        await runner.query(
          `CREATE INDEX IF NOT EXISTS ${name.index('published_idx')} ON ${table} (published_at) WHERE published_at IS NOT NULL`,
        );
      }

      async down(runner: QueryRunner): Promise<void> {
        await runner.query(`DROP TABLE IF EXISTS ${table}`);
      }
    },
    class TidingsOutboxData1795900000000 implements MigrationInterface {
      readonly name = 'TidingsOutboxData1795900000000';

      async up(runner: QueryRunner): Promise<void> {
        // Nullable, no default: adding it rewrites nothing, however many rows the table holds.
        await runner.query(`ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS data json`);
      }

      async down(runner: QueryRunner): Promise<void> {
        // Put pending payloads back inside their envelopes first: a relay of the older version publishes them then.
        await runner.query(
          `UPDATE ${table} SET envelope = (envelope::jsonb || jsonb_build_object('data', data::jsonb))::json WHERE data IS NOT NULL`,
        );
        await runner.query(`ALTER TABLE ${table} DROP COLUMN IF EXISTS data`);
      }
    },
  ];
}

import type { MigrationInterface, QueryRunner } from 'typeorm';
import { outboxTable, type OutboxTableOptions } from './outbox-table.js';

/**
 * The outbox table as a TypeORM migration, to list with your own: `migrations: [createOutboxMigration()]`.
 *
 * `id` is the insertion order the relay publishes in. Pending rows have `published_at` NULL; stores
 * that delete on publish never set it. The partial indexes cover exactly the relay's queries: the
 * scan of pending rows by id, and the per-key lookup that keeps partition keys in order.
 */
export function createOutboxMigration(options: OutboxTableOptions = {}): new () => MigrationInterface {
  const name = outboxTable(options);
  const table = name.qualified;
  return class TidingsOutbox1795300000000 implements MigrationInterface {
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
  };
}

import type { MigrationInterface, QueryRunner } from 'typeorm';
import type { MigrationClass } from '../schema/migration-class.js';
import { tableName } from '../schema/table-name.js';
import type { InboxTableOptions } from './inbox-table.js';

/**
 * The inbox table as a TypeORM migration, to list with your own: `migrations: [createInboxMigration()]`.
 * One row per (consumer, message id) handled; `handled_at` lets old rows be deleted in bounded batches.
 */
export function createInboxMigration(options: InboxTableOptions = {}): MigrationClass {
  const name = tableName('Inbox', 'tidings_inbox', options);
  const table = name.qualified;
  const index = name.index('handled_at_idx');
  return class TidingsInbox1795200000000 implements MigrationInterface {
    readonly name = 'TidingsInbox1795200000000';

    async up(runner: QueryRunner): Promise<void> {
      await runner.query(
        `CREATE TABLE IF NOT EXISTS ${table} (
           consumer text NOT NULL,
           message_id text NOT NULL,
           handled_at timestamptz NOT NULL DEFAULT now(),
           PRIMARY KEY (consumer, message_id)
         )`,
      );
      await runner.query(`CREATE INDEX IF NOT EXISTS ${index} ON ${table} (handled_at)`);
    }

    async down(runner: QueryRunner): Promise<void> {
      await runner.query(`DROP TABLE IF EXISTS ${table}`);
    }
  };
}

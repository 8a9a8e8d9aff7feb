import type { BenchDatabase, BenchOutboxTable } from './database.js';
import { outboxEnvelopes } from './outbox.js';

/** Rows per statement: small enough to report progress, large enough that a million rows take a few statements. */
const CHUNK = 100_000;

/**
 * Writes `rows` pending rows into `table` inside PostgreSQL (`generate_series`), each the JSON `TypeOrmOutboxStore.add`
 * would write for the bench's 1 KiB event, with an id of its own: a million rows through `add` would take minutes of
 * client round trips that the scenario does not measure. Calls `onChunk` with the rows written so far, then ANALYZEs
 * (autovacuum may be off: the claim's plan needs statistics).
 */
export async function fillBacklog(
  db: BenchDatabase,
  table: BenchOutboxTable,
  rows: number,
  onChunk: (written: number) => void,
): Promise<void> {
  const [template] = outboxEnvelopes(1);
  if (!template) throw new Error('no template envelope');
  const { data, ...attributes } = template;
  for (let written = 0; written < rows;) {
    const n = Math.min(CHUNK, rows - written);
    await db.query(
      `INSERT INTO ${table.qualified} (message_id, type, envelope, data)
       SELECT fresh.id, $1, replace($2, $3, fresh.id)::json, $5::json
       FROM (SELECT gen_random_uuid()::text AS id FROM generate_series(1, $4::int)) AS fresh`,
      [template.type, JSON.stringify(attributes), template.id, n, JSON.stringify(data)],
    );
    written += n;
    onChunk(written);
  }
  await db.query(`ANALYZE ${table.qualified}`);
}

import type { TableName } from '../schema/table-name.js';

/** The statements of the outbox, built once per table. */
export interface OutboxSql {
  readonly insertOne: string;
  readonly insertMany: string;
  readonly claimHeads: string;
  readonly claimFollowers: string;
  readonly deletePublished: string;
  readonly markPublished: string;
  readonly recordFailure: string;
  readonly backlog: string;
  readonly purge: string;
}

/** Rows waiting and due, for a table alias. */
const pendingDue = (alias: string): string => `${alias}.published_at IS NULL AND ${alias}.deliver_at <= now()`;

export function outboxSql(name: TableName): OutboxSql {
  const t = name.qualified;
  return {
    // `envelope` holds the attributes, `data` the payload: the relay sends `data` on as the text it is.
    insertOne: `INSERT INTO ${t} (message_id, type, partition_key, envelope, data, deliver_at)
      VALUES ($1, $2, $3, $4::json, $5::json, coalesce($6::timestamptz, now()))`,
    // Several rows in one statement, in array order (so their ids follow it).
    insertMany: `INSERT INTO ${t} (message_id, type, partition_key, envelope, data, deliver_at)
      SELECT u.message_id, u.type, u.partition_key, u.envelope::json, u.data::json, coalesce($6::timestamptz, now())
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
        WITH ORDINALITY AS u(message_id, type, partition_key, envelope, data, n)
      ORDER BY u.n`,
    // A keyed row is claimable only while it is its key's oldest due row (its "head"): locking the head
    // is owning the key. Non-head rows are filtered before the lock, so they are never locked by anyone.
    // Only ids within $2 of the oldest due row are looked at: the head probes are then bounded per claim,
    // however deep the backlog, and progress is certain (the oldest due row is always a head). A range on
    // the id keeps the plan an index scan that stops at the limit (a list of window ids measured 25× slower).
    // `data::text`, because node-postgres parses a json column and the relay wants the payload's text.
    claimHeads: `SELECT o.id::text AS position, o.partition_key, o.envelope, o.data::text AS data, o.attempts
      FROM ${t} o
      WHERE o.id < (SELECT min(w.id) FROM ${t} w WHERE ${pendingDue('w')}) + $2
        AND ${pendingDue('o')}
        AND (o.partition_key IS NULL OR NOT EXISTS (
          SELECT 1 FROM ${t} p
          WHERE p.partition_key = o.partition_key AND p.id < o.id AND ${pendingDue('p')}))
      ORDER BY o.id
      LIMIT $1
      FOR UPDATE OF o SKIP LOCKED`,
    // The rows after the heads this claim owns: nobody else can claim them while the heads are locked.
    claimFollowers: `SELECT o.id::text AS position, o.partition_key, o.envelope, o.data::text AS data, o.attempts
      FROM ${t} o
      JOIN unnest($1::text[], $2::bigint[]) AS h(partition_key, head) ON o.partition_key = h.partition_key AND o.id > h.head
      WHERE ${pendingDue('o')}
      ORDER BY o.id
      LIMIT $3`,
    deletePublished: `DELETE FROM ${t} WHERE id = ANY($1::bigint[])`,
    markPublished: `UPDATE ${t} SET published_at = now() WHERE id = ANY($1::bigint[])`,
    recordFailure: `UPDATE ${t} SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])`,
    backlog: `SELECT count(*)::int AS pending,
        (count(*) FILTER (WHERE deliver_at <= now()))::int AS due,
        min(deliver_at) FILTER (WHERE deliver_at <= now()) AS oldest_due_at
      FROM ${t} WHERE published_at IS NULL`,
    purge: `DELETE FROM ${t} WHERE id IN (
        SELECT id FROM ${t} WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => $1) LIMIT $2)`,
  };
}

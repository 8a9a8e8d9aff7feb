import type { TypeOrmProjectionTx } from '@tidings/typeorm';

/**
 * Creates the feed's read model in a new copy (the projection store says which schema: the live one on first
 * start, `<schema>__rebuild` during a rebuild). The read model: one row per question in `feed_items`, and the answer ids seen in `feed_answers`.
 *
 * A row whose `asked_at` is NULL is a placeholder: answers or an acceptance arrived before the question (events of
 * one question may come out of order), and `qa.question.asked` fills it in. Placeholders are never listed.
 *
 * Ids are `text`, not `uuid`: the event contract allows any id of up to 100 characters, and a read model that
 * refused what the contract allows would dead-letter valid events. `COLLATE "C"` makes the tie-break of the
 * newest-first order (and the keyset cursor) byte order, whatever the database's locale.
 *
 * Timestamps are kept to the millisecond (the handlers truncate): the API's ISO strings and its cursors are
 * JavaScript dates, so a cursor built from a row always compares equal to that row.
 */
export async function createFeedReadModel({ manager, schema }: TypeOrmProjectionTx): Promise<void> {
  const s = `"${schema}"`;
  // fillfactor 90 leaves room on each page, so the frequent updates (answer counts, activity, acceptance) can be
  // HOT updates: they change no indexed column, so no index is written for them.
  await manager.query(
    `CREATE TABLE ${s}.feed_items (
       question_id text COLLATE "C" PRIMARY KEY,
       title text,
       subject text,
       grade smallint CHECK (grade BETWEEN 1 AND 12),
       asked_at timestamptz,
       answer_count integer NOT NULL DEFAULT 0,
       accepted_answer_id text,
       accepted_at timestamptz,
       last_activity_at timestamptz NOT NULL,
       CHECK ((asked_at IS NULL) = (title IS NULL) AND (asked_at IS NULL) = (subject IS NULL) AND (asked_at IS NULL) = (grade IS NULL))
     ) WITH (fillfactor = 90)`,
  );
  // Keyed by question too: an answer is counted once per question, whichever way ids are made unique.
  await manager.query(
    `CREATE TABLE ${s}.feed_answers (
       question_id text COLLATE "C" NOT NULL,
       answer_id text NOT NULL,
       added_at timestamptz NOT NULL,
       PRIMARY KEY (question_id, answer_id)
     )`,
  );
  // Every listing is `WHERE <equalities> [AND answered] ORDER BY asked_at DESC, question_id DESC LIMIT n`, from a
  // keyset cursor. An index whose leading columns are the equalities and whose next ones are the order answers it
  // by reading n entries from the cursor on, whatever the table's size; hence one index per equality filter set
  // (none, subject, grade, subject+grade). `answered` is not indexed: it splits the rows roughly in half, so
  // checking it while walking one of these indexes reads about twice the rows at worst, and indexing
  // `answer_count` would make every answer update a non-HOT one. All are partial (`asked_at IS NOT NULL`), so
  // placeholders take no index space and the listing query, which has the same condition, can use them.
  const listed = 'WHERE asked_at IS NOT NULL';
  await manager.query(`CREATE INDEX feed_items_newest_idx ON ${s}.feed_items (asked_at DESC, question_id DESC) ${listed}`);
  await manager.query(`CREATE INDEX feed_items_subject_idx ON ${s}.feed_items (subject, asked_at DESC, question_id DESC) ${listed}`);
  await manager.query(`CREATE INDEX feed_items_grade_idx ON ${s}.feed_items (grade, asked_at DESC, question_id DESC) ${listed}`);
  await manager.query(
    `CREATE INDEX feed_items_subject_grade_idx ON ${s}.feed_items (subject, grade, asked_at DESC, question_id DESC) ${listed}`,
  );
}

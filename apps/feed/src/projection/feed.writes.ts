import { Injectable } from '@nestjs/common';
import type { TypeOrmProjectionTx } from '@tidings/typeorm';
import type { AnswerAccepted, AnswerAdded, QuestionAsked } from '../../../qa-events/src/index.js';
import type { FeedItemRow } from './feed-item.js';

/** Timestamps are kept to the millisecond, the precision of the API's dates and cursors (see the read model). */
const ms = (param: string): string => `date_trunc('milliseconds', ${param}::timestamptz)`;

/**
 * The projection's SQL, one event at a time. Each statement is one atomic upsert that commutes with the others and is
 * idempotent, so the read model ends up the same whatever order the events of a question arrive in, and however
 * often (the same fact may come under two event ids):
 * - an event for a question not seen yet creates the row (a placeholder, unless it is the question itself);
 * - `last_activity_at` only ever moves forward (GREATEST);
 * - an answer is counted when its (question, answer) row is inserted, never when it is already there;
 * - the question's fields fill a placeholder once; the accepted answer is the latest acceptance (by time, then id).
 *
 * Each writes in the copy the transaction names (`tx.schema`), and returns the row it changed, or `undefined` when the
 * event changed nothing (already applied).
 */
@Injectable()
export class FeedWrites {
  async questionAsked({ manager, schema }: TypeOrmProjectionTx, q: QuestionAsked): Promise<FeedItemRow | undefined> {
    const rows: FeedItemRow[] = await manager.query(
      `INSERT INTO "${schema}".feed_items AS f (question_id, title, subject, grade, asked_at, last_activity_at)
       VALUES ($1, $2, $3, $4, ${ms('$5')}, ${ms('$5')})
       ON CONFLICT (question_id) DO UPDATE
         SET title = EXCLUDED.title, subject = EXCLUDED.subject, grade = EXCLUDED.grade, asked_at = EXCLUDED.asked_at,
             last_activity_at = GREATEST(f.last_activity_at, EXCLUDED.last_activity_at)
         WHERE f.asked_at IS NULL
       RETURNING *`,
      [q.questionId, q.title, q.subject, q.grade, q.askedAt],
    );
    return rows[0];
  }

  async answerAdded({ manager, schema }: TypeOrmProjectionTx, a: AnswerAdded): Promise<FeedItemRow | undefined> {
    // One statement: the item is only touched when the answer row was inserted (the CTE returned it).
    const rows: FeedItemRow[] = await manager.query(
      `WITH added AS (
         INSERT INTO "${schema}".feed_answers (question_id, answer_id, added_at) VALUES ($1, $2, ${ms('$3')})
         ON CONFLICT DO NOTHING
         RETURNING question_id, added_at
       )
       INSERT INTO "${schema}".feed_items AS f (question_id, answer_count, last_activity_at)
       SELECT question_id, 1, added_at FROM added
       ON CONFLICT (question_id) DO UPDATE
         SET answer_count = f.answer_count + 1, last_activity_at = GREATEST(f.last_activity_at, EXCLUDED.last_activity_at)
       RETURNING *`,
      [a.questionId, a.answerId, a.addedAt],
    );
    return rows[0];
  }

  async answerAccepted({ manager, schema }: TypeOrmProjectionTx, a: AnswerAccepted): Promise<FeedItemRow | undefined> {
    // The questions service accepts one answer per question; should two acceptances ever exist, every order of
    // arrival keeps the same one (the latest), rather than whichever came last.
    const rows: FeedItemRow[] = await manager.query(
      `INSERT INTO "${schema}".feed_items AS f (question_id, accepted_answer_id, accepted_at, last_activity_at)
       VALUES ($1, $2, ${ms('$3')}, ${ms('$3')})
       ON CONFLICT (question_id) DO UPDATE
         SET accepted_answer_id = EXCLUDED.accepted_answer_id, accepted_at = EXCLUDED.accepted_at,
             last_activity_at = GREATEST(f.last_activity_at, EXCLUDED.last_activity_at)
         WHERE f.accepted_at IS NULL OR (EXCLUDED.accepted_at, EXCLUDED.accepted_answer_id) > (f.accepted_at, f.accepted_answer_id)
       RETURNING *`,
      [a.questionId, a.answerId, a.acceptedAt],
    );
    return rows[0];
  }
}

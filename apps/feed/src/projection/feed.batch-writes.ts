import { Injectable } from '@nestjs/common';
import type { TypeOrmProjectionTx } from '@tidings/typeorm';
import type { AnswerAccepted, AnswerAdded, QuestionAsked } from '../../../qa-events/src/index.js';
import type { FeedItemRow } from './feed-item.js';

const ms = (column: string): string => `date_trunc('milliseconds', ${column})`;

/** The facts of one batch of events, grouped by kind. */
export interface FeedBatch {
  readonly asked: readonly QuestionAsked[];
  readonly added: readonly AnswerAdded[];
  readonly accepted: readonly AnswerAccepted[];
}

/**
 * The same writes as {@link FeedWrites}, for a whole batch in three statements (one per kind of event) instead of one
 * per event: what makes a replay fast. It relies on what makes the per-event writes order-independent: they commute,
 * so grouping a batch's events by kind gives the state that applying them one by one in log order gives. Within a
 * statement a row may be touched once only, so each kind is first reduced (in SQL) to one fact per row, as the per-event
 * writes would resolve them: the first question of an id wins (later ones change nothing), answers are counted per
 * distinct (question, answer), and of several acceptances of one question the latest (by time, then id) wins.
 */
@Injectable()
export class FeedBatchWrites {
  /**
   * Applies the batch; with `changedRows`, returns the rows it changed, the last state of each (reading them back costs
   * a replay time, so a rebuild, which announces nothing, leaves it out).
   */
  async apply(tx: TypeOrmProjectionTx, batch: FeedBatch, changedRows: boolean): Promise<FeedItemRow[]> {
    const returning = changedRows ? 'RETURNING *' : '';
    const changed = new Map<string, FeedItemRow>();
    for (const rows of [
      await this.questionsAsked(tx, batch.asked, returning),
      await this.answersAdded(tx, batch.added, returning),
      await this.answersAccepted(tx, batch.accepted, returning),
    ]) {
      for (const row of rows) changed.set(row.question_id, row);
    }
    return [...changed.values()];
  }

  private async questionsAsked(
    { manager, schema }: TypeOrmProjectionTx,
    events: readonly QuestionAsked[],
    returning: string,
  ): Promise<FeedItemRow[]> {
    if (events.length === 0) return [];
    // The first question of an id in log order wins, as it does one event at a time (later ones change nothing).
    return manager.query(
      `INSERT INTO "${schema}".feed_items AS f (question_id, title, subject, grade, asked_at, last_activity_at)
       SELECT DISTINCT ON (id) id, title, subject, grade, ${ms('asked_at')}, ${ms('asked_at')}
       FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[], $5::timestamptz[]) WITH ORDINALITY AS u(id, title, subject, grade, asked_at, n)
       ORDER BY id, n
       ON CONFLICT (question_id) DO UPDATE
         SET title = EXCLUDED.title, subject = EXCLUDED.subject, grade = EXCLUDED.grade, asked_at = EXCLUDED.asked_at,
             last_activity_at = GREATEST(f.last_activity_at, EXCLUDED.last_activity_at)
         WHERE f.asked_at IS NULL
       ${returning}`,
      [
        events.map((q) => q.questionId),
        events.map((q) => q.title),
        events.map((q) => q.subject),
        events.map((q) => q.grade),
        events.map((q) => q.askedAt),
      ],
    );
  }

  private async answersAdded(
    { manager, schema }: TypeOrmProjectionTx,
    events: readonly AnswerAdded[],
    returning: string,
  ): Promise<FeedItemRow[]> {
    if (events.length === 0) return [];
    // feed_answers absorbs repeats (ON CONFLICT DO NOTHING also within the statement); items are counted per question.
    return manager.query(
      `WITH added AS (
         INSERT INTO "${schema}".feed_answers (question_id, answer_id, added_at)
         SELECT question_id, answer_id, ${ms('added_at')} FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS u(question_id, answer_id, added_at)
         ON CONFLICT DO NOTHING
         RETURNING question_id, added_at
       ), per_question AS (
         SELECT question_id, count(*)::integer AS answers, max(added_at) AS latest FROM added GROUP BY question_id
       )
       INSERT INTO "${schema}".feed_items AS f (question_id, answer_count, last_activity_at)
       SELECT question_id, answers, latest FROM per_question
       ON CONFLICT (question_id) DO UPDATE
         SET answer_count = f.answer_count + EXCLUDED.answer_count, last_activity_at = GREATEST(f.last_activity_at, EXCLUDED.last_activity_at)
       ${returning}`,
      [events.map((a) => a.questionId), events.map((a) => a.answerId), events.map((a) => a.addedAt)],
    );
  }

  private async answersAccepted(
    { manager, schema }: TypeOrmProjectionTx,
    events: readonly AnswerAccepted[],
    returning: string,
  ): Promise<FeedItemRow[]> {
    if (events.length === 0) return [];
    // Of several acceptances of one question the latest wins, compared as the row's condition compares them.
    return manager.query(
      `INSERT INTO "${schema}".feed_items AS f (question_id, accepted_answer_id, accepted_at, last_activity_at)
       SELECT DISTINCT ON (question_id) question_id, answer_id, accepted_at, accepted_at
       FROM (SELECT question_id, answer_id, ${ms('accepted_at')} AS accepted_at
             FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS u(question_id, answer_id, accepted_at)) AS acceptances
       ORDER BY question_id, accepted_at DESC, answer_id DESC
       ON CONFLICT (question_id) DO UPDATE
         SET accepted_answer_id = EXCLUDED.accepted_answer_id, accepted_at = EXCLUDED.accepted_at,
             last_activity_at = GREATEST(f.last_activity_at, EXCLUDED.last_activity_at)
         WHERE f.accepted_at IS NULL OR (EXCLUDED.accepted_at, EXCLUDED.accepted_answer_id) > (f.accepted_at, f.accepted_answer_id)
       ${returning}`,
      [events.map((a) => a.questionId), events.map((a) => a.answerId), events.map((a) => a.acceptedAt)],
    );
  }
}

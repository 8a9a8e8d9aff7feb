import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { SERVICE_SCHEMA } from '../../../sample-kit/src/index.js';
import type { Asker, NotificationView } from './notification.view.js';

interface NotificationRow {
  readonly answer_id: string;
  readonly question_id: string;
  readonly user_id: string;
  readonly answerer_id: string;
  readonly text: string;
  readonly delivered_at: Date;
}

const toView = (row: NotificationRow): NotificationView => ({
  answerId: row.answer_id,
  questionId: row.question_id,
  userId: row.user_id,
  answererId: row.answerer_id,
  text: row.text,
  deliveredAt: row.delivered_at.toISOString(),
});

/** SQL of the service's tables, in one place. */
@Injectable()
export class NotificationRows {
  constructor(@Inject(SERVICE_SCHEMA) private readonly schema: string) {}

  /**
   * Records who asked each question, in one statement for the lot. A question listed twice keeps its last copy (one
   * `INSERT ... ON CONFLICT` may not touch a row twice), and a replayed question changes nothing it should not.
   */
  async upsertAskers(manager: EntityManager, askers: readonly Asker[]): Promise<void> {
    const latest = [...new Map(askers.map((asker) => [asker.questionId, asker])).values()];
    if (latest.length === 0) return;
    await manager.query(
      `INSERT INTO "${this.schema}".askers (question_id, asker_id, title)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
       ON CONFLICT (question_id) DO UPDATE SET asker_id = EXCLUDED.asker_id, title = EXCLUDED.title`,
      [latest.map((a) => a.questionId), latest.map((a) => a.askerId), latest.map((a) => a.title)],
    );
  }

  async findAsker(manager: EntityManager, questionId: string): Promise<Asker | undefined> {
    const rows: { asker_id: string; title: string }[] = await manager.query(
      `SELECT asker_id, title FROM "${this.schema}".askers WHERE question_id = $1`,
      [questionId],
    );
    const row = rows[0];
    return row && { questionId, askerId: row.asker_id, title: row.title };
  }

  /** Records a delivered notification; the answer's first record stands (the same answer under another message id adds nothing). */
  async insertNotification(manager: EntityManager, n: NotificationView): Promise<void> {
    await manager.query(
      `INSERT INTO "${this.schema}".notifications (answer_id, question_id, user_id, answerer_id, text, delivered_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (answer_id) DO NOTHING`,
      [n.answerId, n.questionId, n.userId, n.answererId, n.text, n.deliveredAt],
    );
  }

  /** One user's notifications, newest first. */
  async listFor(manager: EntityManager, userId: string, limit: number): Promise<NotificationView[]> {
    const rows: NotificationRow[] = await manager.query(
      `SELECT * FROM "${this.schema}".notifications WHERE user_id = $1 ORDER BY delivered_at DESC, answer_id DESC LIMIT $2`,
      [userId, limit],
    );
    return rows.map(toView);
  }
}

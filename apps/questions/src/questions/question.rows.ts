import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { SERVICE_SCHEMA } from '../../../sample-kit/src/index.js';
import type { AnswerView, QuestionView } from './question.view.js';

interface QuestionRow {
  readonly id: string;
  readonly title: string;
  readonly body: string;
  readonly subject: string;
  readonly grade: number;
  readonly author_id: string;
  readonly asked_at: Date;
  readonly accepted_answer_id: string | null;
}

interface AnswerRow {
  readonly id: string;
  readonly question_id: string;
  readonly body: string;
  readonly author_id: string;
  readonly added_at: Date;
}

const toQuestion = (row: QuestionRow): QuestionView => ({
  id: row.id,
  title: row.title,
  body: row.body,
  subject: row.subject,
  grade: row.grade,
  authorId: row.author_id,
  askedAt: row.asked_at.toISOString(),
  acceptedAnswerId: row.accepted_answer_id,
});

const toAnswer = (row: AnswerRow): AnswerView => ({
  id: row.id,
  questionId: row.question_id,
  body: row.body,
  authorId: row.author_id,
  addedAt: row.added_at.toISOString(),
});

/** SQL of the write model, in one place. */
@Injectable()
export class QuestionRows {
  constructor(@Inject(SERVICE_SCHEMA) private readonly schema: string) {}

  async insertQuestion(manager: EntityManager, q: QuestionView): Promise<void> {
    await manager.query(
      `INSERT INTO "${this.schema}".questions (id, title, body, subject, grade, author_id, asked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [q.id, q.title, q.body, q.subject, q.grade, q.authorId, q.askedAt],
    );
  }

  /** The question, locked until the transaction ends: writes to one question are serialised, so its events' order is its commit order. */
  async lockQuestion(manager: EntityManager, id: string): Promise<QuestionView | undefined> {
    const rows: QuestionRow[] = await manager.query(`SELECT * FROM "${this.schema}".questions WHERE id = $1 FOR UPDATE`, [id]);
    return rows[0] && toQuestion(rows[0]);
  }

  async findQuestion(manager: EntityManager, id: string): Promise<QuestionView | undefined> {
    const rows: QuestionRow[] = await manager.query(`SELECT * FROM "${this.schema}".questions WHERE id = $1`, [id]);
    return rows[0] && toQuestion(rows[0]);
  }

  async insertAnswer(manager: EntityManager, a: AnswerView): Promise<void> {
    await manager.query(`INSERT INTO "${this.schema}".answers (id, question_id, body, author_id, added_at) VALUES ($1, $2, $3, $4, $5)`, [
      a.id,
      a.questionId,
      a.body,
      a.authorId,
      a.addedAt,
    ]);
  }

  async findAnswer(manager: EntityManager, questionId: string, answerId: string): Promise<AnswerView | undefined> {
    const rows: AnswerRow[] = await manager.query(`SELECT * FROM "${this.schema}".answers WHERE id = $1 AND question_id = $2`, [
      answerId,
      questionId,
    ]);
    return rows[0] && toAnswer(rows[0]);
  }

  async answersOf(manager: EntityManager, questionId: string): Promise<AnswerView[]> {
    const rows: AnswerRow[] = await manager.query(`SELECT * FROM "${this.schema}".answers WHERE question_id = $1 ORDER BY added_at, id`, [
      questionId,
    ]);
    return rows.map(toAnswer);
  }

  async accept(manager: EntityManager, questionId: string, answerId: string): Promise<void> {
    await manager.query(`UPDATE "${this.schema}".questions SET accepted_answer_id = $2 WHERE id = $1`, [questionId, answerId]);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';
import { checkIdentifier } from '@tidings/typeorm';

/** The write model: questions and their answers. */
export function createQuestionsMigration(schema: string): new () => MigrationInterface {
  const s = `"${checkIdentifier('Questions', 'schema', schema)}"`;
  return class QuestionsTables1795400000000 implements MigrationInterface {
    readonly name = 'QuestionsTables1795400000000';

    async up(runner: QueryRunner): Promise<void> {
      await runner.query(
        `CREATE TABLE IF NOT EXISTS ${s}.questions (
           id uuid PRIMARY KEY,
           title text NOT NULL,
           body text NOT NULL,
           subject text NOT NULL,
           grade smallint NOT NULL CHECK (grade BETWEEN 1 AND 12),
           author_id text NOT NULL,
           asked_at timestamptz NOT NULL,
           accepted_answer_id uuid
         )`,
      );
      await runner.query(
        `CREATE TABLE IF NOT EXISTS ${s}.answers (
           id uuid PRIMARY KEY,
           question_id uuid NOT NULL REFERENCES ${s}.questions (id),
           body text NOT NULL,
           author_id text NOT NULL,
           added_at timestamptz NOT NULL
         )`,
      );
      await runner.query(`CREATE INDEX IF NOT EXISTS answers_question_idx ON ${s}.answers (question_id, added_at)`);
    }

    async down(runner: QueryRunner): Promise<void> {
      await runner.query(`DROP TABLE IF EXISTS ${s}.answers`);
      await runner.query(`DROP TABLE IF EXISTS ${s}.questions`);
    }
  };
}

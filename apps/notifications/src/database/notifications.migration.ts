import type { MigrationInterface, QueryRunner } from 'typeorm';
import { checkIdentifier } from '@tidings/typeorm';

/**
 * The service's own tables: who asked each question (`qa.answer.added` does not say, so the service learns it from
 * `qa.question.asked`), and the notifications delivered, one per answer at most.
 */
export function createNotificationsMigration(schema: string): new () => MigrationInterface {
  const s = `"${checkIdentifier('Notifications', 'schema', schema)}"`;
  return class NotificationsTables1795500000000 implements MigrationInterface {
    readonly name = 'NotificationsTables1795500000000';

    async up(runner: QueryRunner): Promise<void> {
      await runner.query(
        `CREATE TABLE IF NOT EXISTS ${s}.askers (
           question_id text PRIMARY KEY,
           asker_id text NOT NULL,
           title text NOT NULL
         )`,
      );
      // Keyed by answer: a push may be repeated (at-least-once), its record never is.
      await runner.query(
        `CREATE TABLE IF NOT EXISTS ${s}.notifications (
           answer_id text PRIMARY KEY,
           user_id text NOT NULL,
           question_id text NOT NULL,
           answerer_id text NOT NULL,
           text text NOT NULL,
           delivered_at timestamptz NOT NULL
         )`,
      );
      // GET /notifications?userId= reads one user's newest first; the answer id breaks ties in delivered_at.
      await runner.query(
        `CREATE INDEX IF NOT EXISTS notifications_user_idx ON ${s}.notifications (user_id, delivered_at DESC, answer_id DESC)`,
      );
    }

    async down(runner: QueryRunner): Promise<void> {
      await runner.query(`DROP TABLE IF EXISTS ${s}.notifications`);
      await runner.query(`DROP TABLE IF EXISTS ${s}.askers`);
    }
  };
}

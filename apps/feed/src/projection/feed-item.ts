/** One question of the feed, as `GET /feed` lists it and `GET /feed/stream` sends it (DESIGN §8). */
export interface FeedItem {
  readonly questionId: string;
  readonly title: string;
  readonly subject: string;
  readonly grade: number;
  readonly answerCount: number;
  /** At least one answer. */
  readonly answered: boolean;
  /** `null` until an answer is accepted. */
  readonly acceptedAnswerId: string | null;
  /** ISO 8601. */
  readonly askedAt: string;
  /** ISO 8601: the latest of the question's askedAt, its answers' addedAt and its acceptedAt seen so far. */
  readonly lastActivityAt: string;
}

/** A `feed_items` row as PostgreSQL returns it; the question's fields are null while the row is a placeholder. */
export interface FeedItemRow {
  readonly question_id: string;
  readonly title: string | null;
  readonly subject: string | null;
  readonly grade: number | null;
  readonly asked_at: Date | null;
  readonly answer_count: number;
  readonly accepted_answer_id: string | null;
  readonly last_activity_at: Date;
}

/** The item of a row, or `undefined` for a placeholder (its question is not known yet, so it is not listed). */
export function toFeedItem(row: FeedItemRow): FeedItem | undefined {
  if (row.asked_at === null || row.title === null || row.subject === null || row.grade === null) return undefined;
  return {
    questionId: row.question_id,
    title: row.title,
    subject: row.subject,
    grade: row.grade,
    answerCount: row.answer_count,
    answered: row.answer_count > 0,
    acceptedAnswerId: row.accepted_answer_id,
    askedAt: row.asked_at.toISOString(),
    lastActivityAt: row.last_activity_at.toISOString(),
  };
}

/** A notification as `GET /notifications` returns it. */
export interface NotificationView {
  readonly answerId: string;
  readonly questionId: string;
  /** Who was notified: the asker. */
  readonly userId: string;
  readonly answererId: string;
  /** What the push said. */
  readonly text: string;
  /** When the push service accepted the push (RFC 3339). */
  readonly deliveredAt: string;
}

/** Who asked a question, as learned from `qa.question.asked`. */
export interface Asker {
  readonly questionId: string;
  readonly askerId: string;
  readonly title: string;
}

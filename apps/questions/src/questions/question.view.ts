/** An answer as the API returns it. */
export interface AnswerView {
  readonly id: string;
  readonly questionId: string;
  readonly body: string;
  readonly authorId: string;
  readonly addedAt: string;
}

/** A question as the API returns it. */
export interface QuestionView {
  readonly id: string;
  readonly title: string;
  readonly body: string;
  readonly subject: string;
  readonly grade: number;
  readonly authorId: string;
  readonly askedAt: string;
  readonly acceptedAnswerId: string | null;
}

/** A question with its answers, oldest first. */
export interface QuestionWithAnswers extends QuestionView {
  readonly answers: readonly AnswerView[];
}

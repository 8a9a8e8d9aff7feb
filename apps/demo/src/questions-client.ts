/** A question as the questions service returns it (DESIGN §8). */
export interface AskedQuestion {
  readonly id: string;
  readonly title: string;
  readonly subject: string;
  readonly grade: number;
  readonly authorId: string;
  readonly askedAt: string;
}

/** An answer as the questions service returns it. */
export interface AddedAnswer {
  readonly id: string;
  readonly questionId: string;
  readonly authorId: string;
}

/** What to ask. */
export interface QuestionRequest {
  readonly title: string;
  readonly body: string;
  readonly subject: string;
  readonly grade: number;
  readonly authorId: string;
}

/** Thrown when the questions service does not answer a command with the expected status. */
export class QuestionsApiError extends Error {
  override readonly name = 'QuestionsApiError';
  constructor(
    readonly status: number,
    what: string,
    body: string,
  ) {
    super(`${what} answered ${status}: ${body.slice(0, 300)}`);
  }
}

/** The questions service's HTTP API, for the demo's seed and the end-to-end tests. */
export class QuestionsClient {
  constructor(private readonly baseUrl: string) {}

  ask(question: QuestionRequest): Promise<AskedQuestion> {
    return this.post('/questions', question, 201);
  }

  answer(questionId: string, body: string, authorId: string): Promise<AddedAnswer> {
    return this.post(`/questions/${questionId}/answers`, { body, authorId }, 201);
  }

  accept(questionId: string, answerId: string): Promise<unknown> {
    return this.post(`/questions/${questionId}/answers/${answerId}/accept`, undefined, 200);
  }

  private async post<T>(path: string, body: unknown, expected: number): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status !== expected) throw new QuestionsApiError(response.status, `POST ${path}`, text);
    return JSON.parse(text) as T;
  }
}

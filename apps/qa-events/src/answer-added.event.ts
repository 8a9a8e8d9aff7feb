import { IntegrationEvent } from '@tidings/core';
import { z } from 'zod';
import { ID, TIMESTAMP } from './qa-fields.js';

const schema = z.object({ answerId: ID, questionId: ID, body: z.string().min(1), authorId: ID, addedAt: TIMESTAMP });

/** An answer was added to a question (DESIGN §8 contract). Partition key: the question id. */
@IntegrationEvent('qa.answer.added', { schema })
export class AnswerAdded {
  constructor(
    readonly answerId: string,
    readonly questionId: string,
    readonly body: string,
    readonly authorId: string,
    readonly addedAt: string,
  ) {}
}

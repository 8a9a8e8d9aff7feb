import { IntegrationEvent } from '@tidings/core';
import { z } from 'zod';
import { GRADE, ID, TIMESTAMP } from './qa-fields.js';

const schema = z.object({
  questionId: ID,
  title: z.string().min(1),
  body: z.string(),
  subject: z.string().min(1),
  grade: GRADE,
  authorId: ID,
  askedAt: TIMESTAMP,
});

/** A question was asked (DESIGN §8 contract). Partition key: the question id. */
@IntegrationEvent('qa.question.asked', { schema })
export class QuestionAsked {
  constructor(
    readonly questionId: string,
    readonly title: string,
    readonly body: string,
    readonly subject: string,
    readonly grade: number,
    readonly authorId: string,
    readonly askedAt: string,
  ) {}
}

import { IntegrationEvent } from '@tidings/core';
import { z } from 'zod';
import { ID, TIMESTAMP } from './qa-fields.js';

const schema = z.object({ questionId: ID, answerId: ID, acceptedAt: TIMESTAMP });

/** The asker accepted an answer (DESIGN §8 contract). Partition key: the question id. */
@IntegrationEvent('qa.answer.accepted', { schema })
export class AnswerAccepted {
  constructor(
    readonly questionId: string,
    readonly answerId: string,
    readonly acceptedAt: string,
  ) {}
}

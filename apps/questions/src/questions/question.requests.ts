import { z } from 'zod';

/** zod's message for a missing or mistyped field, in the words of this API. */
const required = (what: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `must be ${what}`),
});

const text = (max: number) =>
  z.string(required('a string')).trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

export const askQuestionRequest = z.strictObject({
  title: text(300),
  body: z.string(required('a string')).max(20_000, 'must be at most 20000 characters'),
  subject: text(60),
  grade: z
    .number({ error: 'must be a whole number from 1 to 12' })
    .int('must be a whole number from 1 to 12')
    .min(1, 'must be a whole number from 1 to 12')
    .max(12, 'must be a whole number from 1 to 12'),
  authorId: text(100),
});

export const addAnswerRequest = z.strictObject({
  body: text(20_000),
  authorId: text(100),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs; anything else names no question or answer (a 404, not a database error). */
export const isId = (value: string): boolean => UUID.test(value);

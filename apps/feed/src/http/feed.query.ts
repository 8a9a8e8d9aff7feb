import { z } from 'zod';
import { decodeCursor } from './feed.cursor.js';

const GRADE = 'must be a whole number from 1 to 12';
const LIMIT = 'must be a whole number from 1 to 100';
const BOOLEAN = 'must be true or false';

/** Page size when the query gives none. */
export const DEFAULT_LIMIT = 20;

/** A query-string parameter: a string, given once (`?grade=1&grade=2` is an array, and an error). */
const param = (what: string) => z.string({ error: (issue) => (Array.isArray(issue.input) ? 'must be given once' : `must be ${what}`) });

/** `?subject=&grade=` (as an HTML form sends them) means no filter, not an empty one. */
const withoutBlanks = (query: unknown): unknown =>
  query !== null && typeof query === 'object' && !Array.isArray(query)
    ? Object.fromEntries(Object.entries(query).filter(([, value]) => value !== ''))
    : query;

const filterFields = {
  subject: param('a string').trim().min(1, 'must not be empty').max(60, 'must be at most 60 characters').optional(),
  grade: param(GRADE)
    .regex(/^(?:[1-9]|1[0-2])$/, GRADE)
    .transform(Number)
    .optional(),
  answered: param(BOOLEAN)
    .refine((value) => value === 'true' || value === 'false', BOOLEAN)
    .transform((value) => value === 'true')
    .optional(),
};

/** The query of `GET /feed/stream`: the filters. Unknown parameters are refused, so a misspelt filter is not ignored. */
export const feedStreamQuery = z.preprocess(withoutBlanks, z.strictObject(filterFields));

/** The query of `GET /feed`: the filters, a page size and the cursor of the previous page. */
export const feedQuery = z.preprocess(
  withoutBlanks,
  z.strictObject({
    ...filterFields,
    limit: param(LIMIT)
      .regex(/^[0-9]{1,3}$/, LIMIT)
      .transform(Number)
      .pipe(z.number().min(1, LIMIT).max(100, LIMIT))
      .default(DEFAULT_LIMIT),
    cursor: param('a cursor')
      .transform((text, context) => {
        const cursor = decodeCursor(text);
        if (!cursor) context.addIssue({ code: 'custom', message: 'must be a nextCursor this feed returned' });
        return cursor ?? z.NEVER;
      })
      .optional(),
  }),
);

export type FeedStreamQuery = z.output<typeof feedStreamQuery>;
export type FeedQuery = z.output<typeof feedQuery>;

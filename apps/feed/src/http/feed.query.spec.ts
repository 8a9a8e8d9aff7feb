import { encodeCursor } from './feed.cursor.js';
import { DEFAULT_LIMIT, feedQuery, feedStreamQuery } from './feed.query.js';

const problems = (result: { success: boolean; error?: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> } }) =>
  result.error?.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`);

describe('GET /feed query', () => {
  it('has no filters and a page of 20 by default', () => {
    expect(feedQuery.parse({})).toEqual({ limit: DEFAULT_LIMIT });
    expect(DEFAULT_LIMIT).toBe(20);
  });

  it('reads the filters, the page size and the cursor from their query-string text', () => {
    const cursor = { askedAt: '2031-05-04T10:11:12.345Z', questionId: 'q-1' };
    expect(feedQuery.parse({ subject: ' physics ', grade: '12', answered: 'false', limit: '100', cursor: encodeCursor(cursor) })).toEqual({
      subject: 'physics',
      grade: 12,
      answered: false,
      limit: 100,
      cursor,
    });
    expect(feedQuery.parse({ grade: '1', answered: 'true', limit: '1' })).toEqual({ grade: 1, answered: true, limit: 1 });
  });

  it('takes empty parameters (as a form sends them) for absent ones', () => {
    expect(feedQuery.parse({ subject: '', grade: '', answered: '', limit: '', cursor: '' })).toEqual({ limit: 20 });
  });

  it('names every parameter that is wrong', () => {
    const result = feedQuery.safeParse({ grade: '13', answered: 'yes', limit: '0', cursor: 'nope', subjet: 'x' });
    expect(problems(result)).toEqual([
      'grade: must be a whole number from 1 to 12',
      'answered: must be true or false',
      'limit: must be a whole number from 1 to 100',
      'cursor: must be a nextCursor this feed returned',
      'query: Unrecognized key: "subjet"',
    ]);
    expect(problems(feedQuery.safeParse({ limit: '101' }))).toEqual(['limit: must be a whole number from 1 to 100']);
    expect(problems(feedQuery.safeParse({ limit: '2.5' }))).toEqual(['limit: must be a whole number from 1 to 100']);
    expect(problems(feedQuery.safeParse({ grade: '0' }))).toEqual(['grade: must be a whole number from 1 to 12']);
    expect(problems(feedQuery.safeParse({ grade: '07x' }))).toEqual(['grade: must be a whole number from 1 to 12']);
    expect(problems(feedQuery.safeParse({ grade: ['1', '2'] }))).toEqual(['grade: must be given once']);
    expect(problems(feedQuery.safeParse({ subject: '   ' }))).toEqual(['subject: must not be empty']);
  });

  it('gives the stream the filters only', () => {
    expect(feedStreamQuery.parse({ subject: 'physics', grade: '7', answered: 'true' })).toEqual({
      subject: 'physics',
      grade: 7,
      answered: true,
    });
    expect(problems(feedStreamQuery.safeParse({ limit: '5' }))).toEqual(['query: Unrecognized key: "limit"']);
  });
});

import { decodeCursor, encodeCursor } from './feed.cursor.js';

describe('feed cursor', () => {
  const cursor = { askedAt: '2031-05-04T10:11:12.345Z', questionId: '5a4f0a56-9f3e-4c57-8a47-3d0c1f7e2b10' };

  it('round-trips the position of an item, as an opaque URL-safe string', () => {
    const text = encodeCursor(cursor);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(text)).toEqual(cursor);
  });

  it('refuses what it did not make: garbage, other JSON, non-canonical or invalid times, empty ids', () => {
    const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    expect(decodeCursor('')).toBeUndefined();
    expect(decodeCursor('not a cursor!')).toBeUndefined();
    expect(decodeCursor(Buffer.from('{oops').toString('base64url'))).toBeUndefined();
    expect(decodeCursor(encode({ askedAt: cursor.askedAt, questionId: cursor.questionId }))).toBeUndefined();
    expect(decodeCursor(encode([cursor.askedAt]))).toBeUndefined();
    expect(decodeCursor(encode([cursor.askedAt, 42]))).toBeUndefined();
    expect(decodeCursor(encode([cursor.askedAt, '']))).toBeUndefined();
    expect(decodeCursor(encode([cursor.askedAt, 'x'.repeat(101)]))).toBeUndefined();
    expect(decodeCursor(encode(['2031-05-04', cursor.questionId]))).toBeUndefined();
    expect(decodeCursor(encode(['2031-02-30T00:00:00.000Z', cursor.questionId]))).toBeUndefined();
    expect(decodeCursor(encode(['yesterday', cursor.questionId]))).toBeUndefined();
  });
});

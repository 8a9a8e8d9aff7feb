/** Where a page of the feed ends: the last item's position in the newest-first order. */
export interface FeedCursor {
  /** ISO 8601, to the millisecond. */
  readonly askedAt: string;
  readonly questionId: string;
}

/**
 * The opaque `nextCursor` of a page: base64url of `[askedAt, questionId]`. Clients pass it back unchanged; its
 * content is not part of the contract, so it can change (a version field, a signature) without breaking them.
 */
export function encodeCursor(cursor: FeedCursor): string {
  return Buffer.from(JSON.stringify([cursor.askedAt, cursor.questionId]), 'utf8').toString('base64url');
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The cursor `text` stands for, or `undefined` if it is not one {@link encodeCursor} made. */
export function decodeCursor(text: string): FeedCursor | undefined {
  if (!BASE64URL.test(text)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [askedAt, questionId] = value as unknown[];
  if (typeof askedAt !== 'string' || typeof questionId !== 'string' || questionId === '' || questionId.length > 100) return undefined;
  const time = new Date(askedAt);
  // Only the canonical form: the database compares it with the rows' times, so nothing else may get through.
  if (Number.isNaN(time.getTime()) || time.toISOString() !== askedAt) return undefined;
  return { askedAt, questionId };
}

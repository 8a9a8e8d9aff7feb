import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SERVICE_SCHEMA } from '../../../sample-kit/src/index.js';
import { toFeedItem, type FeedItem, type FeedItemRow } from '../projection/feed-item.js';
import { encodeCursor, type FeedCursor } from './feed.cursor.js';
import type { FeedFilters } from './feed-filters.js';

/** One page of the feed, newest first; `nextCursor` is null on the last page. */
export interface FeedPage {
  readonly items: readonly FeedItem[];
  readonly nextCursor: string | null;
}

/** The feed's listing query (see the migration for the indexes it is written for). */
@Injectable()
export class FeedReads {
  private readonly items: string;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(SERVICE_SCHEMA) schema: string,
  ) {
    this.items = `"${schema}".feed_items`;
  }

  /** Up to `limit` listed questions after `after` (keyset pagination: stable while new questions arrive). */
  async page(filters: FeedFilters, limit: number, after?: FeedCursor): Promise<FeedPage> {
    // `asked_at IS NOT NULL` leaves placeholders out, and is the predicate of the partial indexes.
    const where = ['asked_at IS NOT NULL'];
    const params: unknown[] = [];
    const param = (value: unknown): string => `$${params.push(value)}`;
    if (filters.subject !== undefined) where.push(`subject = ${param(filters.subject)}`);
    if (filters.grade !== undefined) where.push(`grade = ${param(filters.grade)}`);
    if (filters.answered !== undefined) where.push(filters.answered ? 'answer_count > 0' : 'answer_count = 0');
    if (after) where.push(`(asked_at, question_id) < (${param(after.askedAt)}::timestamptz, ${param(after.questionId)})`);
    // One row more than asked for tells whether there is a next page without a count.
    const rows: FeedItemRow[] = await this.dataSource.query(
      `SELECT * FROM ${this.items} WHERE ${where.join(' AND ')} ORDER BY asked_at DESC, question_id DESC LIMIT ${param(limit + 1)}`,
      params,
    );
    const items = rows.slice(0, limit).flatMap((row) => toFeedItem(row) ?? []);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }
}

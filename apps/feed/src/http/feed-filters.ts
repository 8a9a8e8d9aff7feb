import type { FeedItem } from '../projection/feed-item.js';

/** What a reader narrows the feed to; an absent field does not filter. */
export interface FeedFilters {
  readonly subject?: string | undefined;
  readonly grade?: number | undefined;
  /** `true`: questions with at least one answer; `false`: questions without. */
  readonly answered?: boolean | undefined;
}

/** Whether `item` passes `filters`: the same rule `GET /feed` applies in SQL, for the items of the stream. */
export function matchesFilters(item: FeedItem, filters: FeedFilters): boolean {
  return (
    (filters.subject === undefined || item.subject === filters.subject) &&
    (filters.grade === undefined || item.grade === filters.grade) &&
    (filters.answered === undefined || item.answered === filters.answered)
  );
}

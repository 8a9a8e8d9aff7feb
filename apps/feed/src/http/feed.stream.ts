import type { MessageEvent } from '@nestjs/common';
import { endWith, filter, ignoreElements, interval, map, merge, takeUntil, type Observable } from 'rxjs';
import type { FeedItem } from '../projection/feed-item.js';
import { matchesFilters, type FeedFilters } from './feed-filters.js';

/** How often an idle stream sends a comment: proxies and load balancers close connections silent for longer (often 30–60 s). */
export const HEARTBEAT_MS = 15_000;

/** The server-sent event type of a changed item; its data is the item as `GET /feed` lists it. */
export const ITEM_EVENT = 'item';

/**
 * The events of one `GET /feed/stream`: each committed change that passes `filters`, as an `item` event, and a
 * comment every `heartbeatMs`. Ends when `changes` completes (application shutdown).
 */
export function feedStream(changes: Observable<FeedItem>, filters: FeedFilters, heartbeatMs = HEARTBEAT_MS): Observable<MessageEvent> {
  const items = changes.pipe(
    filter((item) => matchesFilters(item, filters)),
    map((item): MessageEvent => ({ type: ITEM_EVENT, data: item })),
  );
  const heartbeats = interval(heartbeatMs).pipe(map((): MessageEvent => ({ comment: 'heartbeat' })));
  const ended = changes.pipe(ignoreElements(), endWith(true));
  return merge(items, heartbeats).pipe(takeUntil(ended));
}

import { Controller, Get, Query, Res, Sse, type MessageEvent } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { Observable } from 'rxjs';
import { FeedChanges } from '../projection/feed-changes.js';
import { feedQuery, feedStreamQuery, type FeedQuery, type FeedStreamQuery } from './feed.query.js';
import { FeedReads, type FeedPage } from './feed.reads.js';
import { feedStream } from './feed.stream.js';
import { OpenStreams } from './open-streams.js';
import { ZodRequestPipe } from '../../../sample-kit/src/index.js';

/** The feed's part of the public contract (DESIGN §8). */
@Controller('feed')
export class FeedController {
  constructor(
    private readonly reads: FeedReads,
    private readonly changes: FeedChanges,
    private readonly streams: OpenStreams,
  ) {}

  /** Newest first (by askedAt, then questionId); pass `nextCursor` back as `cursor` for the next page. */
  @Get()
  list(@Query(new ZodRequestPipe(feedQuery, 'query')) query: FeedQuery): Promise<FeedPage> {
    const { limit, cursor, ...filters } = query;
    return this.reads.page(filters, limit, cursor);
  }

  /**
   * Server-sent events: an `item` event with each changed item that passes the filters, once its change has
   * committed. No replay: a client opens the stream, then loads `GET /feed`, and merges both by question id. Every
   * field only grows (answerCount, lastActivityAt, acceptedAnswerId once set), so the merge keeps the newest state
   * whichever of the two arrived first.
   */
  @Sse('stream')
  stream(
    @Query(new ZodRequestPipe(feedStreamQuery, 'query')) filters: FeedStreamQuery,
    @Res({ passthrough: true }) response: ServerResponse,
  ): Observable<MessageEvent> {
    this.streams.track(response);
    return feedStream(this.changes.items$, filters);
  }
}

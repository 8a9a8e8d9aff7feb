import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import type { FeedItem } from './feed-item.js';

/**
 * The in-process hub of feed changes: the projection publishes each item it changed once the change has committed,
 * and every open `GET /feed/stream` reads from here. It completes when the application shuts down, which ends the
 * open streams, so that closing the HTTP server does not wait for clients that never hang up.
 */
@Injectable()
export class FeedChanges implements OnModuleDestroy {
  private readonly changes = new Subject<FeedItem>();

  /** Committed changes, from the moment of subscription (no replay); completes at shutdown. */
  readonly items$: Observable<FeedItem> = this.changes.asObservable();

  publish(item: FeedItem): void {
    this.changes.next(item);
  }

  onModuleDestroy(): void {
    this.changes.complete();
  }
}

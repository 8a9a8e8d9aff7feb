import { Inject, Injectable } from '@nestjs/common';
import { OnEvent } from '@tidings/nestjs';
import { TransactionContext } from '@tidings/typeorm';
import type { EntityManager } from 'typeorm';
import { AnswerAccepted, AnswerAdded, QuestionAsked } from '../../../qa-events/src/index.js';
import { AfterCommitInbox } from '../database/after-commit.inbox.js';
import { FeedChanges } from './feed-changes.js';
import { toFeedItem, type FeedItemRow } from './feed-item.js';
import { FeedWrites } from './feed.writes.js';

/** The one subscription (queue `<service>.projection`) of the three handlers: one consumer, one inbox identity. */
const PROJECTION = { subscription: 'projection', transactional: true } as const;

/**
 * Keeps the feed's read model from the questions service's events. Idempotent twice over: the inbox skips a
 * redelivered message, and each write is idempotent and commutative by itself ({@link FeedWrites}), so the same
 * fact under another message id, or events of a question in any order, still give the same feed.
 *
 * Each changed item is announced on {@link FeedChanges} after its transaction commits, so a stream never shows a
 * change that was rolled back, and a client that reloads `GET /feed` on receiving it sees it there.
 */
@Injectable()
export class FeedProjection {
  constructor(
    private readonly writes: FeedWrites,
    @Inject(TransactionContext) private readonly transactions: TransactionContext,
    @Inject(AfterCommitInbox) private readonly inbox: AfterCommitInbox,
    private readonly changes: FeedChanges,
  ) {}

  @OnEvent(QuestionAsked, PROJECTION)
  async onQuestionAsked(event: QuestionAsked): Promise<void> {
    this.announce(await this.writes.questionAsked(this.manager(), event));
  }

  @OnEvent(AnswerAdded, PROJECTION)
  async onAnswerAdded(event: AnswerAdded): Promise<void> {
    this.announce(await this.writes.answerAdded(this.manager(), event));
  }

  @OnEvent(AnswerAccepted, PROJECTION)
  async onAnswerAccepted(event: AnswerAccepted): Promise<void> {
    this.announce(await this.writes.answerAccepted(this.manager(), event));
  }

  private manager(): EntityManager {
    return this.transactions.manager('FeedProjection');
  }

  /**
   * The row as this transaction left it. Changes of one question are serialised by its row lock, so they commit,
   * and are announced, in order; placeholders are not announced (they are not in the feed either).
   */
  private announce(row: FeedItemRow | undefined): void {
    const item = row && toFeedItem(row);
    if (item) this.inbox.afterCommit(() => this.changes.publish(item));
  }
}

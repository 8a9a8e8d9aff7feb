import {
  getEventDefinition,
  type EventClass,
  type ProjectedEvent,
  type ProjectionBatchContext,
  type ProjectionContext,
} from '@tidings/core';
import { OnEvent, OnEventBatch, Projection, type ProjectionReadModel } from '@tidings/nestjs';
import type { TypeOrmProjectionTx } from '@tidings/typeorm';
import { AnswerAccepted, AnswerAdded, QuestionAsked } from '../../../qa-events/src/index.js';
import { FeedBatchWrites } from './feed.batch-writes.js';
import { createFeedReadModel } from './feed.read-model.js';
import { FeedChanges } from './feed-changes.js';
import { toFeedItem, type FeedItemRow } from './feed-item.js';
import { FeedWrites } from './feed.writes.js';

type Context = ProjectionContext<TypeOrmProjectionTx>;

/**
 * The feed's read model, kept from the questions service's events in the event log. Each batch commits with the
 * projection's checkpoint, so every event is applied once; the writes are also idempotent and commutative by
 * themselves ({@link FeedWrites}), so events of a question in any order, or the same fact under two ids, give the
 * same feed. A rebuild replays the whole log into a new copy through {@link applyBatch} and swaps it in.
 *
 * Each changed item is announced on {@link FeedChanges} after its transaction commits, so a stream never shows a
 * change that was rolled back, and a client that reloads `GET /feed` on receiving it sees it there.
 */
@Projection('feed')
export class FeedProjection implements ProjectionReadModel<TypeOrmProjectionTx> {
  constructor(
    private readonly writes: FeedWrites,
    private readonly batchWrites: FeedBatchWrites,
    private readonly changes: FeedChanges,
  ) {}

  createReadModel(tx: TypeOrmProjectionTx): Promise<void> {
    return createFeedReadModel(tx);
  }

  @OnEvent(QuestionAsked)
  async onQuestionAsked(event: QuestionAsked, context: Context): Promise<void> {
    this.announce(context, [await this.writes.questionAsked(context.tx, event)]);
  }

  @OnEvent(AnswerAdded)
  async onAnswerAdded(event: AnswerAdded, context: Context): Promise<void> {
    this.announce(context, [await this.writes.answerAdded(context.tx, event)]);
  }

  @OnEvent(AnswerAccepted)
  async onAnswerAccepted(event: AnswerAccepted, context: Context): Promise<void> {
    this.announce(context, [await this.writes.answerAccepted(context.tx, event)]);
  }

  /** Several events in three statements: what a rebuild, or a live copy catching up, spends its time in. */
  @OnEventBatch()
  async applyBatch(events: readonly ProjectedEvent[], context: ProjectionBatchContext<TypeOrmProjectionTx>): Promise<void> {
    const dataOf = <T extends object>(event: EventClass<T>): T[] => {
      const { type } = getEventDefinition(event);
      return events.flatMap((e) => (e.envelope.type === type ? [e.envelope.data as T] : []));
    };
    const batch = { asked: dataOf(QuestionAsked), added: dataOf(AnswerAdded), accepted: dataOf(AnswerAccepted) };
    const rows = await this.batchWrites.apply(context.tx, batch, context.copy === 'live');
    this.announce(context, rows);
  }

  /**
   * Announces the rows as this transaction left them, once it commits. Changes of one question are serialised by its
   * row lock, so they commit, and are announced, in order; placeholders are not announced (nor listed). A rebuild's
   * copy is announced nothing: its rows are past states nobody reads yet, and the streams follow the live copy.
   */
  private announce(context: Pick<Context, 'afterCommit' | 'copy'>, rows: ReadonlyArray<FeedItemRow | undefined>): void {
    if (context.copy !== 'live') return;
    const items = rows.flatMap((row) => (row && toFeedItem(row)) ?? []);
    if (items.length > 0) context.afterCommit(() => items.forEach((item) => this.changes.publish(item)));
  }
}

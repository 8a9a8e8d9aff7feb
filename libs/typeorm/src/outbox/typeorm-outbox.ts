import type { Envelope, EnvelopeOptions, EventEnveloper } from '@tidings/core';
import { EntityManager } from 'typeorm';
import { TransactionContext } from '../transaction/transaction-context.js';
import type { OutboxAddOptions, TypeOrmOutboxStore } from './typeorm-outbox.store.js';

/** Options of {@link TypeOrmOutbox.publish}: the envelope's, plus when to publish. */
export type OutboxPublishOptions = EnvelopeOptions & OutboxAddOptions;

/**
 * Publishes integration events through the outbox: they are written in your database transaction and
 * reach the broker (through the relay) if and only if it commits.
 *
 * @example
 * ```ts
 * await dataSource.transaction(async (manager) => {
 *   await manager.save(answer);
 *   await outbox.publish(manager, new AnswerAdded(...), { partitionKey: answer.questionId });
 * });
 * // or, without passing the manager, inside a TransactionContext (or a transactional handler):
 * await transactions.run(async (manager) => {
 *   await manager.save(answer);
 *   await outbox.publish(new AnswerAdded(...), { partitionKey: answer.questionId });
 * });
 * ```
 */
export class TypeOrmOutbox {
  /** Where {@link publish} without a manager finds the transaction. */
  readonly transactions: TransactionContext;

  /**
   * @param transactions the context to join when no manager is passed (share it with the inbox, so
   * handlers publish atomically with their effects). @default a context of its own on the store's data source
   */
  constructor(
    private readonly store: TypeOrmOutboxStore,
    private readonly enveloper: EventEnveloper,
    transactions?: TransactionContext,
  ) {
    this.transactions = transactions ?? new TransactionContext(store.dataSource);
  }

  /** Writes the events (instances of `@IntegrationEvent` classes) in `manager`'s transaction; returns their envelopes. */
  publish(manager: EntityManager, events: object | readonly object[], options?: OutboxPublishOptions): Promise<Envelope[]>;
  /** Writes the events in the current transaction of {@link transactions}; throws `NoTransactionError` outside of one. */
  publish(events: object | readonly object[], options?: OutboxPublishOptions): Promise<Envelope[]>;
  async publish(
    first: EntityManager | object | readonly object[],
    second?: object | readonly object[] | OutboxPublishOptions,
    third?: OutboxPublishOptions,
  ): Promise<Envelope[]> {
    const explicit = first instanceof EntityManager;
    const manager = explicit ? first : this.transactions.manager('TypeOrmOutbox.publish without an EntityManager');
    const events = (explicit ? second : first) as object | readonly object[];
    const { deliverAt, ...envelopeOptions } = ((explicit ? third : second) ?? {}) as OutboxPublishOptions;
    const envelopes = this.enveloper.wrap(events, envelopeOptions);
    await this.store.add(manager, envelopes, deliverAt === undefined ? {} : { deliverAt });
    return envelopes;
  }
}

import {
  ErrorClassifier,
  HandlerPipeline,
  RetryPolicy,
  TopicPattern,
  type DeliverFn,
  type Envelope,
  type EventContext,
  type EventDefinition,
  type Transport,
} from '@tidings/core';
import type { TypeOrmInboxStore } from '@tidings/typeorm';
import type { DataSource } from 'typeorm';

/**
 * The effects of handled events, one row per handler run (no uniqueness, so a duplicate effect shows),
 * written in the inbox transaction; and the deliveries seen before deduplication.
 */
export class EffectLedger {
  /** Deliveries that reached the pipeline, duplicates included (broker-level count). */
  deliveries = 0;

  constructor(
    private readonly source: DataSource,
    private readonly schema: string,
  ) {}

  async create(): Promise<void> {
    await this.source.query(
      `CREATE TABLE IF NOT EXISTS "${this.schema}".effects (consumer text NOT NULL, message_id text NOT NULL, partition_key text, seq integer)`,
    );
  }

  /**
   * Subscribes `consumer` on `transport` with the inbox: each first delivery writes one effect row in the
   * inbox transaction; `afterHandled` runs after the pipeline settled, before the transport acks.
   */
  async subscribe(
    transport: Transport,
    consumer: string,
    inbox: TypeOrmInboxStore,
    options: {
      pattern?: string;
      concurrency?: number;
      prefetch?: number;
      /** @default 50 ms once, then the dead-letter queue */
      retry?: RetryPolicy;
      /** Handle this event (validated against its schema; other types are unknown) instead of every type the pattern routes. */
      event?: EventDefinition;
      maxMessageBytes?: number;
      afterHandled?: (envelopeId: string) => Promise<void>;
    } = {},
  ): Promise<void> {
    const pattern = TopicPattern.parse(options.pattern ?? '#');
    const retry = options.retry ?? new RetryPolicy({ tiersMs: [50], initialDelayMs: 50, jitter: 0 });
    const handle = async (data: unknown, context: EventContext): Promise<void> => {
      const { envelope } = context;
      const seq = (data as { seq?: number }).seq ?? null;
      await inbox
        .manager()
        .query(`INSERT INTO "${this.schema}".effects (consumer, message_id, partition_key, seq) VALUES ($1, $2, $3, $4)`, [
          consumer,
          envelope.id,
          envelope.partitionkey ?? null,
          seq,
        ]);
    };
    const pipeline = new HandlerPipeline({
      subscription: consumer,
      inbox,
      ...(options.maxMessageBytes !== undefined && { maxMessageBytes: options.maxMessageBytes }),
      handlers: [
        {
          name: consumer,
          target: options.event ? { event: options.event } : { patterns: [pattern] },
          handle,
          retry,
          classifier: new ErrorClassifier(),
        },
      ],
    });
    const deliver: DeliverFn = async (message) => {
      this.deliveries += 1;
      const outcome = await pipeline.deliver(message);
      if (options.afterHandled) await options.afterHandled(message.attributes['id'] ?? '');
      return outcome;
    };
    await transport.subscribe(
      {
        name: consumer,
        patterns: [pattern],
        prefetch: options.prefetch ?? 50,
        concurrency: options.concurrency ?? 1,
        retryTiersMs: retry.options.tiersMs,
      },
      deliver,
    );
  }

  /** Effect rows, and distinct messages among them, of one consumer. */
  async count(consumer: string): Promise<{ effects: number; distinct: number }> {
    const [row] = await this.source.query(
      `SELECT count(*)::int AS effects, count(DISTINCT message_id)::int AS distinct FROM "${this.schema}".effects WHERE consumer = $1`,
      [consumer],
    );
    return row as { effects: number; distinct: number };
  }
}

/** Ids of the given envelopes, for comparing sets. */
export const idsOf = (envelopes: readonly Envelope[]): string[] => envelopes.map((e) => e.id);

import {
  DEFAULT_GROUP_COMMIT,
  ErrorClassifier,
  getEventDefinition,
  groupHoldingCapacity,
  resolveBatchOptions,
  RetryPolicy,
  type BatchedEvent,
  type EventContext,
  type HandlerBinding,
  type HandlerPipelineOptions,
  type ResolvedGroupCommitOptions,
} from '@tidings/core';
import { TransactionContext, TypeOrmInboxStore } from '@tidings/typeorm';
import { BenchDatabase } from '../outbox/database.js';
import type { BenchBroker, QueueType } from '../rabbitmq/broker.js';
import { consumeThroughPipeline, consumeVariants, raw, type ConsumeVariant, type ConsumerFlow } from '../rabbitmq/consume.scenario.js';
import { OrderPlaced } from '../rabbitmq/payload.js';
import { chosenByOnly, variantId, type BenchContext, type VariantResult } from '../rabbitmq/scenario.js';
import type { Measurement } from '../support/stats.js';
import { MULTI_ROW_GROUPS, rawGroupedInbox, type RawGroupShape } from './raw-grouped-inbox.js';
import { rawPerMessageInbox } from './raw-per-message-inbox.js';

/** Connections of the consumer's pool: a service's usual pool, enough for 16 transactions at once per message. */
const POOL_SIZE = 16;
const PER_MESSAGE_FLOW = { prefetch: 100, concurrency: POOL_SIZE };
/** A batch handler's grouping with its defaults. */
const DEFAULT_BATCHES = resolveBatchOptions({}, 'bench batch handler');
/** Group commit tuned for throughput over connections: twice the default groups in flight. */
const FOUR_GROUPS = { ...DEFAULT_GROUP_COMMIT, groupsInFlight: 4 };
/** The hand-written counterpart of group commit with its defaults: the same groups, one insert per message. */
const PER_MESSAGE_GROUPS: RawGroupShape = {
  maxGroup: DEFAULT_GROUP_COMMIT.maxMessages,
  groupsInFlight: DEFAULT_GROUP_COMMIT.groupsInFlight,
  effects: 'per-message',
};
const VARIANTS = [
  'raw',
  'raw-grouped-inbox',
  'raw-grouped-per-message',
  'raw-per-message',
  'per-message',
  'group-commit',
  'group-commit-4',
  'batch-handler',
  'batch-handler-2',
] as const;

/** Where one run writes: a fresh inbox table and effects table, so no run inherits another's rows. */
interface RunTables {
  readonly inbox: TypeOrmInboxStore;
  readonly inboxTable: string;
  readonly effects: string;
}

/**
 * Idempotent consumers on PostgreSQL, all with an inbox row and an effect row per message: a transaction per message,
 * group commit (ordinary per-message handler code), a batch handler (multi-row statements), and hand-written consumers
 * of the same shapes (grouped; a transaction per message), against raw consume without a database, on the same queue
 * state. Each run with a database checks its effects: one per message sent, none doubled.
 */
export async function consumeInboxScenario(context: BenchContext): Promise<VariantResult[]> {
  const { only, queueTypes } = context.options;
  const ids = queueTypes.flatMap((queueType) => VARIANTS.map((variant) => variantId({ scenario: 'consume-inbox', queueType, variant })));
  if (!ids.some((id) => chosenByOnly(only, id))) return []; // no database for a scenario that does not run
  const database = await BenchDatabase.open('inbox');
  try {
    const source = await database.dataSource(POOL_SIZE, 'inbox consumer');
    // One per DataSource, as applications have it: every AsyncLocalStorage ever run stays enabled on Node 20, and each
    // one enabled makes every promise of the process dearer (a store per run made later runs up to 2× slower).
    const transactions = new TransactionContext(source);
    const pool = await database.pool(POOL_SIZE, 'raw grouped inbox');
    const perMessagePool = await database.pool(POOL_SIZE, 'raw per-message inbox');
    const fresh = async (): Promise<RunTables> => {
      const inboxTable = await database.createInbox('inbox');
      await database.checkpoint();
      return {
        inbox: new TypeOrmInboxStore(source, { schema: database.schema, table: inboxTable, transactions }),
        inboxTable,
        effects: await database.createEffects(),
      };
    };
    /** Runs `consume` on fresh tables, then checks that every message has exactly one effect. */
    const checked =
      (consume: (tables: RunTables, broker: BenchBroker, queue: string, queueType: QueueType, n: number) => Promise<Measurement>) =>
      async (broker: BenchBroker, queue: string, queueType: QueueType, n: number): Promise<Measurement> => {
        const tables = await fresh();
        const measurement = await consume(tables, broker, queue, queueType, n);
        const [row] = await database.query<{ effects: number; distinct: number }>(
          `SELECT count(*)::int AS effects, count(DISTINCT message_id)::int AS distinct FROM ${tables.effects}`,
        );
        if (row?.effects !== n || row.distinct !== n) throw new Error(`${n} messages sent, effects ${JSON.stringify(row)}`);
        await database.dropTable(tables.effects);
        await database.dropTable(`"${database.schema}"."${tables.inboxTable}"`);
        return measurement;
      };
    /**
     * A Tidings consumer with the run's inbox and the pipeline `pipelineOf` gives for the run's tables; `reference` is
     * the hand-written variant doing the same database work.
     */
    const tidings = (
      variant: string,
      label: string,
      reference: string,
      flow: ConsumerFlow,
      pipelineOf: (tables: RunTables) => Omit<HandlerPipelineOptions, 'subscription' | 'onSettled' | 'inbox'>,
    ): ConsumeVariant => ({
      variant,
      label,
      side: 'tidings',
      reference,
      consume: checked((tables, broker, queue, queueType, n) =>
        consumeThroughPipeline(broker, queue, queueType, n, { inbox: tables.inbox, ...pipelineOf(tables) }, flow),
      ),
    });
    /** Group commit with `options` and ordinary per-message handler code, against its hand-written equivalent. */
    const groupCommit = (variant: string, options: ResolvedGroupCommitOptions): ConsumeVariant =>
      tidings(
        variant,
        `tidings inbox, group commit (${options.maxMessages} per group, ${options.groupsInFlight} in flight), per-message handler`,
        'raw-grouped-per-message',
        fillingGroups(options),
        ({ inbox, effects }) => ({ groupCommit: options, handlers: [perMessage(inbox, effects)] }),
      );
    /** A batch handler grouped by `options` (multi-row statements), against the hand-written grouped consumer. */
    const batchHandler = (variant: string, options: ResolvedGroupCommitOptions): ConsumeVariant =>
      tidings(
        variant,
        `tidings inbox, batch handler of up to ${options.maxMessages}, ${options.groupsInFlight} in flight, multi-row insert`,
        'raw-grouped-inbox',
        fillingGroups(options),
        ({ inbox, effects }) => ({
          handlers: [
            {
              ...perMessage(inbox, effects),
              batch: { size: options.maxMessages, groupsInFlight: options.groupsInFlight, handle: batchOf(inbox, effects) },
            },
          ],
        }),
      );
    const variants: ConsumeVariant[] = [
      raw,
      {
        variant: 'raw-grouped-inbox',
        label: `raw amqplib + pg, up to ${MULTI_ROW_GROUPS.maxGroup} per transaction, multi-row inserts, one multiple-ack`,
        side: 'raw',
        consume: checked((tables, broker, queue, _type, n) =>
          rawGroupedInbox(broker, pool, queue, n, { inbox: `"${database.schema}"."${tables.inboxTable}"`, effects: tables.effects }),
        ),
      },
      {
        variant: 'raw-grouped-per-message',
        label: `raw amqplib + pg, ${PER_MESSAGE_GROUPS.maxGroup} per transaction, ${PER_MESSAGE_GROUPS.groupsInFlight} at once, an insert per message`,
        side: 'raw',
        consume: checked((tables, broker, queue, _type, n) =>
          rawGroupedInbox(
            broker,
            pool,
            queue,
            n,
            { inbox: `"${database.schema}"."${tables.inboxTable}"`, effects: tables.effects },
            PER_MESSAGE_GROUPS,
          ),
        ),
      },
      {
        variant: 'raw-per-message',
        label: `raw amqplib + pg, a transaction per message, ${POOL_SIZE} at once, prefetch ${PER_MESSAGE_FLOW.prefetch}`,
        side: 'raw',
        consume: checked((tables, broker, queue, _type, n) =>
          rawPerMessageInbox(broker, perMessagePool, queue, n, {
            inbox: `"${database.schema}"."${tables.inboxTable}"`,
            effects: tables.effects,
          }),
        ),
      },
      tidings(
        'per-message',
        `tidings inbox, a transaction per message, ${POOL_SIZE} at once`,
        'raw-per-message',
        PER_MESSAGE_FLOW,
        ({ inbox, effects }) => ({ groupCommit: false, handlers: [perMessage(inbox, effects)] }),
      ),
      groupCommit('group-commit', DEFAULT_GROUP_COMMIT),
      groupCommit('group-commit-4', FOUR_GROUPS),
      batchHandler('batch-handler', DEFAULT_BATCHES),
      batchHandler('batch-handler-2', { ...DEFAULT_BATCHES, groupsInFlight: 2 }),
    ];
    return await consumeVariants(context, 'consume-inbox', variants);
  } finally {
    await database.dispose();
  }
}

/** Prefetch and concurrency that fill the groups committing and the one forming, as the event bus defaults them. */
const fillingGroups = (group: ResolvedGroupCommitOptions): ConsumerFlow => {
  const capacity = groupHoldingCapacity(group);
  return { prefetch: capacity, concurrency: capacity };
};

/** Ordinary handler code: one insert per event, in the delivery's transaction. */
const perMessage = (inbox: TypeOrmInboxStore, effects: string): HandlerBinding => ({
  name: 'bench effect',
  target: { event: getEventDefinition(OrderPlaced) },
  handle: async (data: unknown, context: EventContext) => {
    const order = data as OrderPlaced;
    await inbox
      .manager()
      .query(`INSERT INTO ${effects} (message_id, order_id, customer_id) VALUES ($1, $2, $3)`, [
        context.envelope.id,
        order.orderId,
        order.customerId,
      ]);
  },
  retry: new RetryPolicy(),
  classifier: new ErrorClassifier(),
});

/** The same effect written for a whole batch in one statement. */
const batchOf =
  (inbox: TypeOrmInboxStore, effects: string) =>
  async (events: readonly BatchedEvent[]): Promise<void> => {
    const orders = events.map((e) => e.data as OrderPlaced);
    await inbox
      .manager()
      .query(`INSERT INTO ${effects} (message_id, order_id, customer_id) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])`, [
        events.map((e) => e.context.envelope.id),
        orders.map((o) => o.orderId),
        orders.map((o) => o.customerId),
      ]);
  };

import { HandlerPipeline, TopicPattern, type DeliveryReport, type Envelope, type HandlerPipelineOptions } from '@tidings/core';
import { RabbitMqTransport } from '@tidings/rabbitmq';
import { startClock, thousands, type Measurement } from '../support/stats.js';
import {
  publishPipelined,
  RABBITMQ_URL,
  silentLogger,
  withTimeout,
  type BenchBroker,
  type QueueType,
  type RawPublication,
} from './broker.js';
import { envelopes, EVENT_TYPE, handWritten, noopHandler } from './payload.js';
import {
  chosenByOnly,
  noRuns,
  orderOfRun,
  record,
  variantId,
  type BenchContext,
  type ScenarioName,
  type VariantResult,
} from './scenario.js';
import { peerConsumeVariants } from '../peers/peer-variants.js';
import { ACK_GRACE_MS, pause, timedRawConsumer } from './timed-raw-consumer.js';

const PREFETCH = 100;
const CONCURRENCY = 100;
/** Lets the broker finish writing the fill before the clock starts. */
const SETTLE_MS = 500;
export { ACK_GRACE_MS, pause };

/** A way of consuming a pre-filled queue, measured against the others on the same queue state. */
export interface ConsumeVariant {
  readonly variant: string;
  readonly label: string;
  readonly side: 'raw' | 'tidings' | 'peer';
  /** The variant doing the same work by hand, if not `raw` (see {@link VariantResult.reference}). */
  readonly reference?: string;
  /** Consumes `n` messages from `queue`; measures from asking to consume until the last ack. */
  consume(broker: BenchBroker, queue: string, queueType: QueueType, n: number): Promise<Measurement>;
  /** The message the queue is filled with, if not the transport's wire format (a peer that routes by its own body). */
  readonly fill?: (envelope: Envelope) => RawPublication;
  /** Releases what the variant holds (a peer's worker process) after its last run. */
  close?(): Promise<void>;
}

export const raw: ConsumeVariant = {
  variant: 'raw',
  label: `raw amqplib, manual ack, prefetch ${PREFETCH}`,
  side: 'raw',
  consume: (broker, queue, _queueType, n) =>
    timedRawConsumer(broker, 'raw consumer', queue, PREFETCH, (channel, end) => {
      let acked = 0;
      return (message) => {
        channel.ack(message);
        if (++acked === n) end.finish();
      };
    }),
};

/** Flow control of a Tidings consumer: what the broker pushes, and what runs at once. */
export interface ConsumerFlow {
  readonly prefetch: number;
  readonly concurrency: number;
}

const subscriptionOf = (queue: string, flow: ConsumerFlow = { prefetch: PREFETCH, concurrency: CONCURRENCY }) => ({
  name: queue,
  service: 'bench',
  patterns: [TopicPattern.parse(EVENT_TYPE)],
  ...flow,
  retryTiersMs: [1000],
});

const transportFor = (broker: BenchBroker, queueType: QueueType): RabbitMqTransport =>
  new RabbitMqTransport({
    url: RABBITMQ_URL,
    exchange: broker.exchange,
    connectionName: 'tidings bench consumer',
    queueType,
    logger: silentLogger,
  });

/** Remembers every queue the transport declared, so the bench deletes them. */
const track = (broker: BenchBroker, transport: RabbitMqTransport): void => {
  for (const declared of transport.declaredTopology()) broker.track(declared.queue, declared.deadLetterQueue, ...declared.retryQueues);
};

/**
 * Declares the subscription's queue the way the transport does (its arguments change with the transport),
 * empty, and leaves it without a consumer: the transport subscribes to the empty queue, then stops.
 */
async function declareLikeTidings(broker: BenchBroker, queue: string, queueType: QueueType): Promise<void> {
  const transport = transportFor(broker, queueType);
  await transport.start();
  try {
    await transport.subscribe(subscriptionOf(queue), () => Promise.reject(new Error('the declaring subscription got a message')));
  } finally {
    await transport.stop();
    track(broker, transport);
  }
}

/**
 * Consumes `n` messages through the Tidings transport and a pipeline built from `pipeline`; measures from subscribing
 * until the last delivery settled (its ack goes out in the same turn of the event loop). Fails if one was not acked.
 */
export async function consumeThroughPipeline(
  broker: BenchBroker,
  queue: string,
  queueType: QueueType,
  n: number,
  pipeline: Omit<HandlerPipelineOptions, 'subscription' | 'onSettled'>,
  flow?: ConsumerFlow,
): Promise<Measurement> {
  const transport = transportFor(broker, queueType);
  await transport.start();
  let settled = 0;
  let failure: DeliveryReport | undefined;
  let allSettled!: () => void;
  const done = new Promise<void>((resolve) => (allSettled = resolve));
  const handlers = new HandlerPipeline({
    ...pipeline,
    subscription: queue,
    onSettled: (report) => {
      if (report.outcome.kind !== 'ack') failure ??= report;
      if (++settled === n) setImmediate(allSettled);
    },
  });
  try {
    const stop = startClock();
    await transport.subscribe(subscriptionOf(queue, flow), handlers.deliver);
    await done;
    const measurement = stop();
    await pause(ACK_GRACE_MS);
    if (failure) throw new Error(`a delivery was not acked: ${JSON.stringify(failure.outcome)}`);
    return measurement;
  } finally {
    await transport.stop();
    track(broker, transport);
  }
}

const tidings: ConsumeVariant = {
  variant: 'tidings',
  label: `tidings, no-op handler, prefetch ${PREFETCH}, concurrency ${CONCURRENCY}`,
  side: 'tidings',
  consume: (broker, queue, queueType, n) => consumeThroughPipeline(broker, queue, queueType, n, { handlers: [noopHandler] }),
};

/**
 * Consumption of a queue pre-filled with `n` messages (the transport's wire format, published by a raw
 * pipelined publisher). Every measured run consumes a fresh queue filled the same way, so raw and Tidings see
 * the same queue state; the order alternates between runs.
 */
export const consumeScenario = (context: BenchContext): Promise<VariantResult[]> =>
  consumeVariants(context, 'consume', [raw, tidings, ...peerConsumeVariants()]);

/**
 * Runs `variants` as scenario `scenario`: per queue type, a warm-up round then the measured runs, each variant on a
 * fresh queue filled the same way, in alternating order.
 */
export async function consumeVariants(
  { broker, options, progress }: BenchContext,
  scenario: ScenarioName,
  variants: readonly ConsumeVariant[],
): Promise<VariantResult[]> {
  const results: VariantResult[] = [];
  const filler = await broker.connect('filler');
  const channel = await filler.createConfirmChannel();
  try {
    for (const queueType of options.queueTypes) {
      const chosen = variants.filter((v) => chosenByOnly(options.only, variantId({ scenario, queueType, ...v })));
      if (chosen.length === 0) continue;
      const measured = new Map(chosen.map((v) => [v, noRuns()]));
      for (let run = -1; run < options.runs; run++) {
        for (const v of orderOfRun(chosen, run)) {
          const n = run < 0 ? options.warmupMessages : options.consumeMessages;
          const what = `${scenario} ${queueType} ${v.variant} ${run < 0 ? 'warm-up' : `run ${run + 1}/${options.runs}`}`;
          const queue = broker.name(`${scenario}-${queueType}`);
          await declareLikeTidings(broker, queue, queueType);
          try {
            progress.step(`${what}: filling ${thousands(n)} msgs`);
            const batch = envelopes(n);
            await withTimeout(
              `${what} fill`,
              300_000,
              publishPipelined(channel, broker.exchange, n, (i) => (v.fill ?? handWritten)(batch[i]!)),
            );
            const stored = await broker.messageCount(queue);
            if (stored !== n) throw new Error(`${queue} holds ${stored} messages after filling ${n}`);
            await pause(SETTLE_MS);
            const measurement = await withTimeout(what, 300_000, v.consume(broker, queue, queueType, n));
            await broker.awaitEmpty(queue);
            progress.step(`${what}: ${record(run >= 0 ? measured.get(v) : undefined, n, measurement)}`);
          } finally {
            await broker.deleteWithDependents(queue);
          }
        }
      }
      for (const [v, runs] of measured)
        results.push({
          scenario,
          queueType,
          variant: v.variant,
          label: v.label,
          side: v.side,
          messages: options.consumeMessages,
          ...(v.reference !== undefined && { reference: v.reference }),
          ...runs,
        });
    }
  } finally {
    await Promise.all(variants.map((v) => v.close?.()));
    await filler.close().catch(() => undefined);
  }
  return results;
}

import { RabbitMqTransport } from '@tidings/rabbitmq';
import type { Envelope } from '@tidings/core';
import type { ConfirmChannel } from 'amqplib';
import { startClock, thousands, type Measurement } from '../support/stats.js';
import { publishPipelined, RABBITMQ_URL, silentLogger, withTimeout, type QueueType } from './broker.js';
import { bare, envelopes, EVENT_TYPE, handWritten } from './payload.js';
import { chosenByOnly, noRuns, orderOfRun, record, variantId, type BenchContext, type VariantResult } from './scenario.js';
import { peerPublishVariants } from '../peers/peer-variants.js';

const WINDOW = 1000;

export interface PublishVariant {
  readonly variant: string;
  readonly label: string;
  readonly side: 'raw' | 'tidings' | 'peer';
  /** The variant putting the same bytes on the wire by hand, if not `raw` (see {@link VariantResult.reference}). */
  readonly reference?: string;
  /** Publishes `n` messages into `queue` (fresh, bound to the exchange by the event type); measures until the last confirm. */
  measure(queue: string, queueType: QueueType, n: number): Promise<Measurement>;
  /** Releases what the variant holds (a peer's worker process) after its last run. */
  close?(): Promise<void>;
}

/** A variant publishing in this process, on envelopes made before the clock starts. */
const inProcess = (
  variant: string,
  label: string,
  side: 'raw' | 'tidings',
  publish: (batch: readonly Envelope[]) => Promise<void>,
): PublishVariant => ({
  variant,
  label,
  side,
  async measure(_queue, _queueType, n) {
    const batch = envelopes(n);
    const stop = startClock();
    await publish(batch);
    return stop();
  },
});

/** `await publish(chunk)` over consecutive chunks, by `callers` concurrent callers. */
async function inChunks(all: readonly Envelope[], size: number, callers: number, publish: (chunk: Envelope[]) => Promise<void>) {
  let next = 0;
  const caller = async (): Promise<void> => {
    while (next < all.length) {
      const start = next;
      next += size;
      await publish(all.slice(start, start + size));
    }
  };
  await Promise.all(Array.from({ length: callers }, caller));
}

function variants(channel: ConfirmChannel, exchange: string, transport: RabbitMqTransport): PublishVariant[] {
  const publish = (chunk: Envelope[]): Promise<void> => transport.publish(chunk);
  return [
    inProcess('raw', `raw amqplib, window ${WINDOW}`, 'raw', (all) =>
      publishPipelined(channel, exchange, all.length, (i) => handWritten(all[i] as Envelope), WINDOW),
    ),
    inProcess('raw-bare', 'raw, body only (no headers)', 'raw', (all) => publishPipelined(channel, exchange, all.length, bare, WINDOW)),
    inProcess('seq-1000', 'tidings, await publish(1000)', 'tidings', (all) => inChunks(all, 1000, 1, publish)),
    inProcess('seq-100', 'tidings, await publish(100)', 'tidings', (all) => inChunks(all, 100, 1, publish)),
    inProcess('conc-4x1000', 'tidings, 4 callers × publish(1000)', 'tidings', (all) => inChunks(all, 1000, 4, publish)),
    inProcess('one-call', 'tidings, one publish(all)', 'tidings', (all) => transport.publish(all)),
    ...peerPublishVariants(exchange),
  ];
}

/**
 * Confirmed publishing into a fresh queue of each type: hand-written pipelined amqplib against the transport's
 * `publish` as applications call it. Every run of every variant gets its own fresh queue, deleted after.
 */
export async function publishScenario({ broker, options, progress }: BenchContext): Promise<VariantResult[]> {
  const results: VariantResult[] = [];
  const rawConnection = await broker.connect('raw publisher');
  const channel = await rawConnection.createConfirmChannel();
  const transport = new RabbitMqTransport({
    url: RABBITMQ_URL,
    exchange: broker.exchange,
    connectionName: 'tidings bench publisher',
    publishWindow: WINDOW,
    logger: silentLogger,
  });
  await transport.start();
  const all = variants(channel, broker.exchange, transport);
  try {
    for (const queueType of options.queueTypes) {
      const chosen = all.filter((v) => chosenByOnly(options.only, variantId({ scenario: 'publish', queueType, variant: v.variant })));
      if (chosen.length === 0) continue;
      const measured = new Map(chosen.map((v) => [v, noRuns()]));
      for (let run = -1; run < options.runs; run++) {
        for (const v of orderOfRun(chosen, run)) {
          const n = run < 0 ? options.warmupMessages : options.publishMessages;
          const what = `publish ${queueType} ${v.variant} ${run < 0 ? 'warm-up' : `run ${run + 1}/${options.runs}`}`;
          progress.step(`${what}: ${thousands(n)} msgs`);
          const measurement = await publishOnce(broker, queueType, n, (queue) =>
            withTimeout(what, 300_000, v.measure(queue, queueType, n)),
          );
          progress.step(`${what}: ${record(run >= 0 ? measured.get(v) : undefined, n, measurement)}`);
        }
      }
      for (const [v, runs] of measured)
        results.push({
          scenario: 'publish',
          queueType,
          variant: v.variant,
          label: v.label,
          side: v.side,
          messages: options.publishMessages,
          ...(v.reference !== undefined && { reference: v.reference }),
          ...runs,
        });
    }
  } finally {
    await Promise.all(all.map((v) => v.close?.()));
    await transport.stop();
    await rawConnection.close().catch(() => undefined);
  }
  return results;
}

async function publishOnce(
  broker: BenchContext['broker'],
  queueType: QueueType,
  n: number,
  measure: (queue: string) => Promise<Measurement>,
): Promise<Measurement> {
  const queue = broker.name(`publish-${queueType}`);
  await broker.declareQueue(queue, queueType, EVENT_TYPE);
  try {
    const measurement = await measure(queue);
    const stored = await broker.messageCount(queue);
    if (stored !== n) throw new Error(`${queue} holds ${stored} messages after ${n} confirmed publishes`);
    return measurement;
  } finally {
    await broker.deleteQueues(queue);
  }
}

import { createEnvelope, type Envelope } from '@tidings/core';
import type { QueueType } from '../rabbitmq/broker.js';
import { EVENT_TYPE, PAYLOAD, type OrderPlaced } from '../rabbitmq/payload.js';
import { chosenByOnly, variantId, type BenchOptions, type ScenarioName } from '../rabbitmq/scenario.js';

/** The outbox scenarios publish to a quorum queue unless `--queue classic` was given. */
export const outboxQueueType = (options: BenchOptions): QueueType => (options.queueTypes.includes('quorum') ? 'quorum' : 'classic');

/** The variants `--only` leaves of a scenario. */
export const chosenOf = <V extends { readonly variant: string }>(
  options: BenchOptions,
  scenario: ScenarioName,
  queueType: QueueType | 'stream' | 'none',
  all: readonly V[],
): V[] => all.filter((v) => chosenByOnly(options.only, variantId({ scenario, queueType, variant: v.variant })));

/**
 * `count` envelopes of the 1 KiB bench event; with `keys`, the i-th has partition key `order-<i mod keys>` (that many
 * aggregates, their events interleaved), as an application keying events by aggregate would write them.
 */
export const outboxEnvelopes = (count: number, keys?: number): Envelope<OrderPlaced>[] =>
  Array.from({ length: count }, (_, i) =>
    createEnvelope({
      type: EVENT_TYPE,
      version: 1,
      source: 'bench',
      data: PAYLOAD,
      ...(keys !== undefined && { partitionKey: `order-${i % keys}` }),
    }),
  );

export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

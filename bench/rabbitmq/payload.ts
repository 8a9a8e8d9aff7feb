import { CLOUDEVENTS_HEADER_PREFIX } from '@tidings/rabbitmq';
import {
  createEnvelope,
  ErrorClassifier,
  getEventDefinition,
  IntegrationEvent,
  RetryPolicy,
  type Envelope,
  type EnvelopeAttributes,
  type HandlerBinding,
} from '@tidings/core';
import type { RawPublication } from './broker.js';

export const EVENT_TYPE = 'bench.order.placed';
export const PAYLOAD_BYTES = 1024;

/** The benchmark's event: a 1 KiB JSON body once serialised. */
@IntegrationEvent(EVENT_TYPE, { version: 1 })
export class OrderPlaced {
  constructor(
    readonly orderId: string,
    readonly customerId: string,
    readonly lines: readonly { readonly sku: string; readonly quantity: number; readonly priceCents: number }[],
    readonly note: string,
  ) {}
}

/** The data of every event: padded so that its JSON is exactly {@link PAYLOAD_BYTES} bytes. */
export const PAYLOAD: OrderPlaced = (() => {
  const lines = Array.from({ length: 8 }, (_, i) => ({ sku: `SKU-${1000 + i}`, quantity: i + 1, priceCents: 1999 + i * 100 }));
  const base = new OrderPlaced('9f1c2a4e-3b6d-4c8f-a1e2-5d7b9c0f1a2b', 'c-000123', lines, '');
  const padding = PAYLOAD_BYTES - Buffer.byteLength(JSON.stringify(base));
  const data = new OrderPlaced(base.orderId, base.customerId, lines, 'x'.repeat(padding));
  if (Buffer.byteLength(JSON.stringify(data)) !== PAYLOAD_BYTES) throw new Error('payload is not 1 KiB');
  return data;
})();

/** `count` envelopes, each with its own id and time, as an application would create them. */
export const envelopes = (count: number): Envelope<OrderPlaced>[] =>
  Array.from({ length: count }, () => createEnvelope({ type: EVENT_TYPE, version: 1, source: 'bench', data: PAYLOAD }));

if (CLOUDEVENTS_HEADER_PREFIX !== 'cloudEvents_') throw new Error('the transport changed its header names: update handWritten');

/**
 * A hand-written publisher's mapping of an envelope onto AMQP: the same bytes the transport puts on the wire
 * (JSON body, CloudEvents binary-mode headers, AMQP properties, persistent, mandatory), serialised per message.
 */
export const handWritten = (envelope: Envelope): RawPublication =>
  handWrittenWithBody(envelope, Buffer.from(JSON.stringify(envelope.data)));

/** {@link handWritten} for a caller that has the body's bytes already (a relay reading the payload's stored JSON). */
export function handWrittenWithBody(envelope: EnvelopeAttributes, content: Buffer): RawPublication {
  return {
    routingKey: envelope.type,
    content,
    options: {
      persistent: true,
      mandatory: true,
      contentType: 'application/json',
      messageId: envelope.id,
      type: envelope.type,
      appId: envelope.source,
      timestamp: Math.floor(Date.parse(envelope.time) / 1000),
      headers: {
        cloudEvents_specversion: envelope.specversion,
        cloudEvents_id: envelope.id,
        cloudEvents_type: envelope.type,
        cloudEvents_source: envelope.source,
        cloudEvents_time: envelope.time,
        cloudEvents_dataversion: String(envelope.dataversion),
      },
    },
  };
}

const BARE_CONTENT = Buffer.from(JSON.stringify(PAYLOAD));

/** The smallest possible publish of the same body: no headers, no properties but `persistent` (BASELINES' raw figure). */
export const bare = (): RawPublication => ({ routingKey: EVENT_TYPE, content: BARE_CONTENT, options: { persistent: true } });

/** A handler that does nothing, bound to {@link OrderPlaced}. */
export const noopHandler: HandlerBinding = {
  name: 'bench no-op',
  target: { event: getEventDefinition(OrderPlaced) },
  handle: () => undefined,
  retry: new RetryPolicy(),
  classifier: new ErrorClassifier(),
};

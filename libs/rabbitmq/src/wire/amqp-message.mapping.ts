import type { DeadLetterReason, DeliveryOutcome, InboundMessage, OutboundMessage } from '@tidings/core';
import type { ConsumeMessage, Options } from 'amqplib';
import { BROKER_DEATH_HEADERS, CLOUDEVENTS_HEADER_PREFIX, CLOUDEVENTS_HEADER_PREFIX_ALT, TidingsHeader } from './tidings-headers.js';

/** What one AMQP publish needs. */
export interface AmqpPublication {
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly options: Options.Publish;
}

type Headers = Record<string, unknown>;

const MAX_HEADER_TEXT = 1000;
const clip = (text: string): string => (text.length > MAX_HEADER_TEXT ? `${text.slice(0, MAX_HEADER_TEXT - 1)}…` : text);

const headerText = (value: unknown): string | undefined => {
  if (value === undefined || value === null) return undefined;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
};

const MAX_CACHED_HEADER_NAMES = 256;

/**
 * `derive`, remembering its results for the first {@link MAX_CACHED_HEADER_NAMES} names it sees. Header and attribute
 * names repeat on every message, so deriving them once saves a new string per name and message; the bound is there
 * because the names come from envelopes and foreign producers and could in principle be anything.
 */
function rememberingNames<T extends string | null>(derive: (name: string) => T): (name: string) => T {
  const remembered = new Map<string, T>();
  return (name) => {
    let derived = remembered.get(name);
    if (derived === undefined) {
      derived = derive(name);
      if (remembered.size < MAX_CACHED_HEADER_NAMES) remembered.set(name, derived);
    }
    return derived;
  };
}

/** The header of an attribute: a concatenated name is a new string to flatten and encode on every publish. */
const attributeHeader = rememberingNames((name) => `${CLOUDEVENTS_HEADER_PREFIX}${name}`);

/**
 * CloudEvents binary mode on AMQP: attributes as `cloudEvents_*` headers, plus the AMQP properties people
 * read in the management UI (messageId, type, timestamp, contentType, appId). Persistent, always. Runs once
 * per published message, so it builds its objects directly rather than through spreads.
 */
export function toPublication(exchange: string, message: OutboundMessage): AmqpPublication {
  const headers: Headers = {};
  const attributes = message.attributes;
  for (const name in attributes) headers[attributeHeader(name)] = attributes[name];
  const options: Options.Publish = { persistent: true, mandatory: true, contentType: message.contentType, headers };
  const { id, type, source, time } = attributes;
  if (id !== undefined) options.messageId = id;
  if (type !== undefined) options.type = type;
  if (source !== undefined) options.appId = source;
  if (time !== undefined) {
    const timestamp = Math.floor(Date.parse(time) / 1000);
    if (!Number.isNaN(timestamp)) options.timestamp = timestamp;
  }
  const body = message.body;
  return {
    exchange,
    routingKey: message.routingKey,
    content: Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    options,
  };
}

/** The attribute a header carries, or `null` for a header that is not a CloudEvents attribute. */
const attributeOf = rememberingNames((header): string | null => {
  const prefix = header.startsWith(CLOUDEVENTS_HEADER_PREFIX)
    ? CLOUDEVENTS_HEADER_PREFIX
    : header.startsWith(CLOUDEVENTS_HEADER_PREFIX_ALT)
      ? CLOUDEVENTS_HEADER_PREFIX_ALT
      : undefined;
  return prefix === undefined ? null : header.slice(prefix.length);
});

/** Reads an AMQP delivery as the core's inbound message: attributes from headers, attempt from our header. */
export function toInboundMessage(message: ConsumeMessage): InboundMessage {
  const headers: Headers = message.properties.headers ?? {};
  const attributes: Record<string, string> = {};
  for (const header in headers) {
    const name = attributeOf(header);
    if (name === null) continue;
    const text = headerText(headers[header]);
    if (text !== undefined) attributes[name] = text;
  }
  const attemptHeader = headers[TidingsHeader.attempt];
  const attempt = attemptHeader === undefined ? 1 : Number(attemptHeader);
  const inbound: { -readonly [K in keyof InboundMessage]: InboundMessage[K] } = {
    routingKey: headerText(headers[TidingsHeader.routingKey]) ?? message.fields.routingKey,
    body: message.content,
    contentType: message.properties.contentType ?? '',
    attributes,
    attempt: Number.isInteger(attempt) && attempt >= 1 ? attempt : 1,
  };
  const firstFailureAt = headerText(headers[TidingsHeader.firstFailureAt]);
  if (firstFailureAt !== undefined) {
    inbound.failures = { firstFailureAt, lastError: headerText(headers[TidingsHeader.errorName]) ?? 'Error' };
  }
  return inbound;
}

/** The original message's properties, with broker death headers removed and `extra` headers added. */
function republish(message: ConsumeMessage, queue: string, extra: Headers): AmqpPublication {
  const headers: Headers = { ...(message.properties.headers ?? {}) };
  for (const name of BROKER_DEATH_HEADERS) delete headers[name];
  headers[TidingsHeader.routingKey] ??= message.fields.routingKey;
  const { contentType, contentEncoding, messageId, type, appId, timestamp, correlationId } = message.properties;
  return {
    exchange: '',
    routingKey: queue,
    content: message.content,
    options: {
      persistent: true,
      mandatory: true,
      headers: { ...headers, ...extra },
      ...(contentType !== undefined && { contentType }),
      ...(contentEncoding !== undefined && { contentEncoding }),
      ...(messageId !== undefined && { messageId }),
      ...(type !== undefined && { type }),
      ...(appId !== undefined && { appId }),
      ...(timestamp !== undefined && { timestamp }),
      ...(correlationId !== undefined && { correlationId }),
    },
  };
}

/** The copy of a failed message sent to a retry tier queue, carrying the next attempt number. */
export function toRetryPublication(
  message: ConsumeMessage,
  attempt: number,
  tierQueue: string,
  outcome: Extract<DeliveryOutcome, { kind: 'retry' }>,
): AmqpPublication {
  return republish(message, tierQueue, {
    [TidingsHeader.attempt]: attempt + 1,
    [TidingsHeader.firstFailureAt]: outcome.failure.firstFailureAt,
    [TidingsHeader.lastFailureAt]: outcome.failure.at,
    [TidingsHeader.errorName]: clip(outcome.failure.errorName),
    [TidingsHeader.errorMessage]: clip(outcome.failure.message),
  });
}

/** The copy of a message sent to the dead-letter queue, with why it is there. */
export function toDeadLetterPublication(
  message: ConsumeMessage,
  dlq: string,
  reason: DeadLetterReason,
  service: string | undefined,
): AmqpPublication {
  return republish(message, dlq, {
    [TidingsHeader.errorCode]: reason.code,
    [TidingsHeader.errorName]: clip(reason.errorName),
    [TidingsHeader.errorMessage]: clip(reason.message),
    [TidingsHeader.attempts]: reason.attempts,
    [TidingsHeader.firstFailureAt]: reason.firstFailureAt,
    [TidingsHeader.lastFailureAt]: reason.lastFailureAt,
    [TidingsHeader.routingKey]: reason.routingKey,
    [TidingsHeader.subscription]: reason.subscription,
    ...(service !== undefined && { [TidingsHeader.service]: service }),
  });
}

/** Reads the reason back from a dead-lettered message's headers (for tools and tests). */
export function deadLetterReasonOf(headers: Headers): DeadLetterReason {
  const text = (name: string): string => headerText(headers[name]) ?? '';
  return {
    code: text(TidingsHeader.errorCode),
    errorName: text(TidingsHeader.errorName),
    message: text(TidingsHeader.errorMessage),
    attempts: Number(headers[TidingsHeader.attempts] ?? 0),
    firstFailureAt: text(TidingsHeader.firstFailureAt),
    lastFailureAt: text(TidingsHeader.lastFailureAt),
    routingKey: text(TidingsHeader.routingKey),
    subscription: text(TidingsHeader.subscription),
  };
}

/** The original message as published (for dead-letter inspection): body, content type and CloudEvents attributes. */
export function toOutboundMessage(message: ConsumeMessage): OutboundMessage {
  const { routingKey, body, contentType, attributes } = toInboundMessage(message);
  return { routingKey, body, contentType, attributes };
}

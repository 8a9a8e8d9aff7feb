/**
 * One event as it travels: CloudEvents 1.0 attributes, Tidings extensions, and `data`.
 *
 * Extension names follow the CloudEvents rule (lower-case letters and digits only), so they map
 * one-to-one onto AMQP headers (`cloudEvents_partitionkey`) and HTTP headers (`ce-partitionkey`).
 */
export interface Envelope<T = unknown> {
  /** CloudEvents spec version; always `'1.0'`. */
  readonly specversion: '1.0';
  /** Unique id of this event (a UUID); consumers deduplicate on it. */
  readonly id: string;
  /** Event type, e.g. `qa.answer.added`; also the routing key. */
  readonly type: string;
  /** The publishing service, e.g. `questions`. */
  readonly source: string;
  /** When the event happened, RFC 3339. */
  readonly time: string;
  /** Always `application/json`: data is JSON. */
  readonly datacontenttype: 'application/json';
  /** What the event is about (an aggregate id, say), for filtering and display. */
  readonly subject?: string;
  /** Version of the data schema for this type (extension); starts at 1. */
  readonly dataversion: number;
  /** Key whose events must stay in order, usually the aggregate id (extension). */
  readonly partitionkey?: string;
  /** Id shared by all events of one business flow (extension). */
  readonly correlationid?: string;
  /** Id of the event or command that caused this one (extension). */
  readonly causationid?: string;
  /** W3C trace context of the publisher (extension). */
  readonly traceparent?: string;
  /** The event's payload. */
  readonly data: T;
}

/** Envelope attributes without `data`: what travels as headers in binary content mode. */
export type EnvelopeAttributes = Omit<Envelope, 'data'>;

/** Names of the optional string attributes and extensions, in wire order. */
export const OPTIONAL_STRING_ATTRIBUTES = [
  'subject',
  'partitionkey',
  'correlationid',
  'causationid',
  'traceparent',
] as const satisfies readonly (keyof EnvelopeAttributes)[];

/** The media type of CloudEvents structured mode (whole event as one JSON document). */
export const STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json';

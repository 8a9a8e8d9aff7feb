/**
 * A message as it travels in CloudEvents binary content mode: the body is the JSON of `data`,
 * the other attributes travel beside it. Transports map `attributes` onto their own headers
 * (AMQP: `cloudEvents_<name>`) and back; the core encodes and decodes.
 */
export interface OutboundMessage {
  /** Routing key: the event type. */
  readonly routingKey: string;
  /** Body bytes. */
  readonly body: Uint8Array;
  /** Media type of the body; `application/cloudevents+json` means structured mode. */
  readonly contentType: string;
  /** CloudEvents attributes other than `data` and `datacontenttype`, as strings. */
  readonly attributes: Readonly<Record<string, string>>;
}

/** Failure history a transport carries with a message between attempts (AMQP: headers). */
export interface FailureHistory {
  /** When the first attempt failed (RFC 3339). */
  readonly firstFailureAt: string;
  /** Error name of the latest failure. */
  readonly lastError: string;
}

/** A message handed by a transport to a subscription's deliver function. */
export interface InboundMessage extends OutboundMessage {
  /** 1 for the first delivery to this subscription; the transport increments it on each retry. */
  readonly attempt: number;
  /** Present from the second attempt on. */
  readonly failures?: FailureHistory;
}

import { ConfigurationError } from '../errors/configuration.error.js';
import type { Envelope } from './envelope.js';

/** What a publisher may set on an envelope besides the event itself. */
export interface EnvelopeOptions {
  /** Key whose events must stay in order (usually the aggregate id). */
  readonly partitionKey?: string;
  /** Shared id of one business flow; defaults to the causing event's correlation id, if any. */
  readonly correlationId?: string;
  /** Id of the event or command that caused this one. */
  readonly causationId?: string;
  /** CloudEvents `subject`. */
  readonly subject?: string;
  /** W3C `traceparent` of the publishing span. */
  readonly traceparent?: string;
  /** Event id; generated (UUID v4) when omitted. Set it to make a re-publish idempotent. */
  readonly id?: string;
  /** Event time; `now` when omitted. */
  readonly time?: Date;
  /**
   * The event being handled when this one is published: sets `causationId` to its id and
   * `correlationId` to its correlation id (or its id), unless those are given.
   */
  readonly causedBy?: Pick<Envelope, 'id' | 'correlationid'>;
}

/** Everything needed to build one envelope. */
export interface EnvelopeInit<T> extends EnvelopeOptions {
  readonly type: string;
  readonly version: number;
  readonly source: string;
  readonly data: T;
}

/** Builds an envelope with a fresh UUID and the current time unless given. */
export function createEnvelope<T>(init: EnvelopeInit<T>): Envelope<T> {
  // Consumers refuse empty attributes (CloudEvents requires non-empty strings); refuse them here, at the producer.
  for (const option of ['id', 'partitionKey', 'correlationId', 'causationId', 'subject', 'traceparent'] as const) {
    if (init[option] === '') {
      throw new ConfigurationError(`Envelope option '${option}' is an empty string`, `Omit '${option}' or give it a value.`, {
        type: init.type,
      });
    }
  }
  const causationId = init.causationId ?? init.causedBy?.id;
  const correlationId = init.correlationId ?? init.causedBy?.correlationid ?? init.causedBy?.id;
  return {
    specversion: '1.0',
    id: init.id ?? globalThis.crypto.randomUUID(),
    type: init.type,
    source: init.source,
    time: (init.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    dataversion: init.version,
    ...(init.subject !== undefined && { subject: init.subject }),
    ...(init.partitionKey !== undefined && { partitionkey: init.partitionKey }),
    ...(correlationId !== undefined && { correlationid: correlationId }),
    ...(causationId !== undefined && { causationid: causationId }),
    ...(init.traceparent !== undefined && { traceparent: init.traceparent }),
    data: init.data,
  };
}

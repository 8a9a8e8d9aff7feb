import { decodeMessage } from '../decoding/envelope.codec.js';
import { errorSummary } from '../errors/error-summary.js';
import { NonRetryableError } from '../errors/non-retryable.error.js';
import { UnknownEventTypeError } from '../errors/unknown-event-type.error.js';
import { validateEventData } from '../events/event-data.validator.js';
import { canUpcast, upcast } from '../events/event-upcasting.js';
import type { LogEntry } from '../transport/event-log.js';
import type { ProjectedEvent } from './projected-event.js';
import type { ProjectionHandler } from './projection.definition.js';
import type { SkippedEvent } from './projection.store.js';

/** What becomes of one log entry in a projection. */
export type ResolvedEntry<Tx> =
  | { readonly kind: 'event'; readonly event: ProjectedEvent; readonly handler: ProjectionHandler<Tx> }
  /** A type the projection has no handler for: it passes over it. */
  | { readonly kind: 'ignored'; readonly position: number }
  /** An entry that can never be applied as it is (malformed, invalid, a version the handler cannot upcast from). */
  | { readonly kind: 'skipped'; readonly skipped: SkippedEvent };

/** The record of an entry passed over because of `error`. */
export function skippedEntry(position: number, error: unknown, eventId?: string, type?: string): SkippedEvent {
  const code = error instanceof NonRetryableError ? error.code : 'TIDINGS_HANDLER_FAILED';
  return { position, eventId, type, code, reason: errorSummary(error) };
}

/**
 * Turns log entries into the events a projection applies, the way the consume pipeline does for a subscription:
 * decode, pick the handler for the type (one bound to that version, or to a later one it can upcast to), upcast,
 * validate. Deterministic failures become skipped entries; a validator that throws (not a verdict on the data)
 * propagates, so the batch is tried again.
 */
export class LogEntryResolver<Tx> {
  private readonly byType = new Map<string, ProjectionHandler<Tx>[]>();

  constructor(
    private readonly projection: string,
    handlers: readonly ProjectionHandler<Tx>[],
    private readonly maxBytes?: number,
  ) {
    for (const handler of handlers) this.byType.set(handler.event.type, [...(this.byType.get(handler.event.type) ?? []), handler]);
  }

  async resolve(entry: LogEntry): Promise<ResolvedEntry<Tx>> {
    const { position, message } = entry;
    const type = message.attributes['type'] ?? message.routingKey;
    // Most of a shared log is other services' events: look at the type before paying for decoding.
    const candidates = this.byType.get(type);
    if (!candidates) return { kind: 'ignored', position };
    let envelope;
    try {
      envelope = decodeMessage(message, this.maxBytes === undefined ? {} : { maxBytes: this.maxBytes });
    } catch (error) {
      return { kind: 'skipped', skipped: skippedEntry(position, error, message.attributes['id'], type) };
    }
    const { dataversion, id } = envelope;
    const handler = candidates.find((h) => canUpcast(h.event.upcasters, dataversion, h.event.version));
    if (!handler) {
      const known = candidates.map((h) => `${h.event.type}@${h.event.version}`);
      const error = new UnknownEventTypeError(type, dataversion, known, `projection ${this.projection}`);
      return { kind: 'skipped', skipped: skippedEntry(position, error, id, type) };
    }
    let data: unknown;
    try {
      data = upcast(type, handler.event.upcasters, envelope.data, dataversion, handler.event.version);
      if (handler.event.schema) data = await validateEventData(type, handler.event.schema, data);
    } catch (error) {
      if (!(error instanceof NonRetryableError)) throw error;
      return { kind: 'skipped', skipped: skippedEntry(position, error, id, type) };
    }
    return { kind: 'event', handler, event: { position, envelope: { ...envelope, data, dataversion: handler.event.version } } };
  }
}

import { ConfigurationError } from '../errors/configuration.error.js';
import { NonRetryableError } from '../errors/non-retryable.error.js';
import { errorSummary } from '../errors/error-summary.js';

/** Turns the data of one version of an event into the data of the next version. Pure, synchronous, deterministic. */
export type Upcaster = (data: unknown) => unknown;

/**
 * Upcasters of an event type, by the version they read: `{ 1: v1ToV2, 2: v2ToV3 }` for an event now at version 3.
 * A chain must be contiguous up to the current version; versions below its start are not accepted.
 */
export type Upcasters = Readonly<Record<number, Upcaster>>;

/** An upcaster threw: the old payload cannot be read as the current version, and retrying will not change that. */
export class UpcastError extends NonRetryableError {
  override readonly code = 'TIDINGS_UPCAST_FAILED';

  constructor(type: string, from: number, cause: unknown) {
    super(`Upcasting event ${type} from version ${from} to ${from + 1} failed: ${errorSummary(cause)}`, {
      context: { type, from },
      hint: 'Fix the upcaster for that version (it must accept every payload ever published as it), then replay the dead letter.',
      cause,
    });
  }
}

/** Checks an event's upcasters at decoration time, so a gap in the chain fails at startup, not on the first old event. */
export function checkUpcasters(type: string, version: number, upcasters: Upcasters | undefined): void {
  if (!upcasters) return;
  const from = Object.keys(upcasters)
    .map(Number)
    .sort((a, b) => a - b);
  const invalid = from.find((v) => !Number.isInteger(v) || v < 1 || v >= version);
  if (invalid !== undefined) {
    throw new ConfigurationError(
      `Event type '${type}' (version ${version}) has an upcaster from version ${invalid}`,
      `Upcasters are keyed by the version they read, from 1 to ${version - 1}.`,
      { type, version },
    );
  }
  const lowest = from[0];
  if (lowest !== undefined && from.length !== version - lowest) {
    const missing = Array.from({ length: version - lowest }, (_, i) => lowest + i).filter((v) => !from.includes(v));
    throw new ConfigurationError(
      `Event type '${type}' (version ${version}) has upcasters from ${from.join(', ')} but none from ${missing.join(', ')}`,
      'An old event is brought up one version at a time: give an upcaster for every version between the oldest and the current one.',
      { type, version },
    );
  }
}

/** Whether data of version `from` can be brought to `to` with these upcasters. */
export function canUpcast(upcasters: Upcasters | undefined, from: number, to: number): boolean {
  if (from === to) return true;
  if (from > to || !upcasters) return false;
  for (let v = from; v < to; v++) if (!upcasters[v]) return false;
  return true;
}

/** Brings `data` from version `from` to `to`, one upcaster at a time; a throwing upcaster is an {@link UpcastError}. */
export function upcast(type: string, upcasters: Upcasters | undefined, data: unknown, from: number, to: number): unknown {
  let current = data;
  for (let v = from; v < to; v++) {
    const step = upcasters?.[v];
    if (!step) throw new UpcastError(type, v, new Error(`no upcaster from version ${v}`));
    try {
      current = step(current);
    } catch (error) {
      throw new UpcastError(type, v, error);
    }
  }
  return current;
}

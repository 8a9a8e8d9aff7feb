import { ConfigurationError } from '../errors/configuration.error.js';
import type { EventSchema } from './event-schema.js';
import { checkUpcasters, type Upcasters } from './event-upcasting.js';

/** Any class used as an event; its instances are the event data. */
// `never[]` parameters accept every constructor (parameters are contravariant) without resorting to `any`.
export type EventClass<T extends object = object> = abstract new (...args: never[]) => T;

/** Options of {@link IntegrationEvent}. */
export interface IntegrationEventOptions<T> {
  /** Schema version of the data. @default 1 */
  readonly version?: number;
  /** Checked on consume; a violation dead-letters the message without calling the handler. */
  readonly schema?: EventSchema<T>;
  /**
   * How to read older versions, keyed by the version each one reads: `{ 1: (v1) => v2 }`. Consumers apply them, live
   * and on replay, before validation, so handlers and the schema only ever see the current version.
   * @default none: only the current version is accepted
   */
  readonly upcasters?: Upcasters;
}

/** What `@IntegrationEvent` records on a class. */
export interface EventDefinition<T extends object = object> {
  readonly type: string;
  readonly version: number;
  readonly schema: EventSchema<T> | undefined;
  readonly upcasters?: Upcasters;
  readonly target: EventClass<T>;
}

const DEFINITION = Symbol.for('tidings.event-definition');
const TYPE_FORMAT = /^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$/;

/**
 * Names an event class on the wire. The type string is the routing key and the contract between
 * services, so it is explicit and stable (never derived from the class name).
 *
 * @example
 * ```ts
 * @IntegrationEvent('qa.answer.added', { version: 1 })
 * export class AnswerAdded { constructor(readonly answerId: string, readonly questionId: string) {} }
 * ```
 */
export function IntegrationEvent<T extends object>(
  type: string,
  options: IntegrationEventOptions<T> = {},
): (target: EventClass<T>) => void {
  const version = options.version ?? 1;
  if (!TYPE_FORMAT.test(type)) {
    throw new ConfigurationError(
      `Invalid event type '${type}'`,
      "Use dot-separated lower-case words such as 'qa.answer.added' (letters, digits, '-' and '_'; no empty words, no wildcards).",
      { type },
    );
  }
  if (!Number.isInteger(version) || version < 1) {
    throw new ConfigurationError(`Invalid version ${version} for event type '${type}'`, 'Versions are whole numbers from 1.', {
      type,
      version,
    });
  }
  checkUpcasters(type, version, options.upcasters);
  // Metadata lives on the class itself, not in a global registry, so two apps in one process never share state.
  return (target) => {
    const definition: EventDefinition<T> = {
      type,
      version,
      schema: options.schema,
      ...(options.upcasters && { upcasters: options.upcasters }),
      target,
    };
    Object.defineProperty(target, DEFINITION, { value: definition, enumerable: false });
  };
}

/** The definition recorded on a class by `@IntegrationEvent`, or `undefined`. Not inherited by subclasses. */
export function findEventDefinition<T extends object>(target: EventClass<T>): EventDefinition<T> | undefined {
  return Object.hasOwn(target, DEFINITION) ? (target as unknown as Record<symbol, EventDefinition<T>>)[DEFINITION] : undefined;
}

/** Like {@link findEventDefinition}, but an undecorated class is a configuration error. */
export function getEventDefinition<T extends object>(target: EventClass<T>): EventDefinition<T> {
  const definition = findEventDefinition(target);
  if (!definition) {
    throw new ConfigurationError(
      `Class ${target.name || '(anonymous)'} is not an integration event`,
      `Decorate it with @IntegrationEvent('<context>.<entity>.<what-happened>').`,
      { class: target.name },
    );
  }
  return definition;
}

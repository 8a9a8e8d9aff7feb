import { DuplicateEventTypeError } from '../errors/duplicate-event-type.error.js';
import { UnknownEventTypeError } from '../errors/unknown-event-type.error.js';
import { getEventDefinition, type EventClass, type EventDefinition } from './integration-event.decorator.js';

const key = (type: string, version: number): string => `${type}@${version}`;

/**
 * Maps `type` + `version` to the event class, for one application. Filled from the classes its
 * handlers name (and any listed explicitly); an instance, never a global.
 */
export class EventTypeRegistry {
  private readonly definitions = new Map<string, EventDefinition>();

  constructor(classes: Iterable<EventClass> = []) {
    for (const target of classes) this.register(target);
  }

  /** Adds a decorated class; registering the same class twice is a no-op, a different one is an error. */
  register<T extends object>(target: EventClass<T>): EventDefinition<T> {
    const definition = getEventDefinition(target);
    const existing = this.definitions.get(key(definition.type, definition.version));
    if (existing && existing.target !== target) {
      throw new DuplicateEventTypeError(definition.type, definition.version, existing.target.name, target.name);
    }
    this.definitions.set(key(definition.type, definition.version), definition as EventDefinition);
    return definition;
  }

  /** The definition for a type and version, or `undefined`. */
  find(type: string, version: number): EventDefinition | undefined {
    return this.definitions.get(key(type, version));
  }

  /** Like {@link find}, but an unknown type is an {@link UnknownEventTypeError} naming `where`. */
  get(type: string, version: number, where: string): EventDefinition {
    const definition = this.find(type, version);
    if (!definition) throw new UnknownEventTypeError(type, version, this.knownTypes(), where);
    return definition;
  }

  /** `type@version` of every registered event, sorted. */
  knownTypes(): string[] {
    return [...this.definitions.keys()].sort();
  }
}

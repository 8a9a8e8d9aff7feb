import { DuplicateEventTypeError } from '../errors/duplicate-event-type.error.js';
import { UnknownEventTypeError } from '../errors/unknown-event-type.error.js';
import { ConfigurationError } from '../errors/configuration.error.js';
import { EventTypeRegistry } from './event-type.registry.js';
import { getEventDefinition, IntegrationEvent } from './integration-event.decorator.js';

@IntegrationEvent('qa.answer.added')
class AnswerAdded {}

@IntegrationEvent('qa.answer.added', { version: 2 })
class AnswerAddedV2 {}

@IntegrationEvent('qa.answer.added')
class AnotherAnswerAdded {}

@IntegrationEvent('qa.question.asked')
class QuestionAsked {}

describe('EventTypeRegistry', () => {
  it('finds a registered class by type and version', () => {
    const registry = new EventTypeRegistry();
    expect(registry.register(AnswerAdded)).toBe(getEventDefinition(AnswerAdded));
    expect(registry.find('qa.answer.added', 1)?.target).toBe(AnswerAdded);
    expect(registry.get('qa.answer.added', 1, 'here').target).toBe(AnswerAdded);
    expect(registry.find('qa.answer.added', 2)).toBeUndefined();
  });

  it('registers the classes given to its constructor', () => {
    const registry = new EventTypeRegistry([QuestionAsked, AnswerAdded]);
    expect(registry.knownTypes()).toEqual(['qa.answer.added@1', 'qa.question.asked@1']);
  });

  it('accepts the same class twice', () => {
    const registry = new EventTypeRegistry([AnswerAdded]);
    expect(() => registry.register(AnswerAdded)).not.toThrow();
    expect(registry.knownTypes()).toEqual(['qa.answer.added@1']);
  });

  it('refuses a second class with the same type and version', () => {
    const registry = new EventTypeRegistry([AnswerAdded]);
    let thrown: unknown;
    try {
      registry.register(AnotherAnswerAdded);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DuplicateEventTypeError);
    const error = thrown as DuplicateEventTypeError;
    expect(error.code).toBe('TIDINGS_DUPLICATE_EVENT_TYPE');
    expect(error.context).toEqual({ type: 'qa.answer.added', version: 1, existing: 'AnswerAdded', incoming: 'AnotherAnswerAdded' });
    expect(registry.find('qa.answer.added', 1)?.target).toBe(AnswerAdded);
    expect(() => new EventTypeRegistry([AnswerAdded, AnotherAnswerAdded])).toThrow(DuplicateEventTypeError);
  });

  it('keeps versions of one type apart', () => {
    const registry = new EventTypeRegistry([AnswerAdded, AnswerAddedV2]);
    expect(registry.get('qa.answer.added', 1, 'here').target).toBe(AnswerAdded);
    expect(registry.get('qa.answer.added', 2, 'here').target).toBe(AnswerAddedV2);
    expect(registry.knownTypes()).toEqual(['qa.answer.added@1', 'qa.answer.added@2']);
  });

  it('refuses an undecorated class', () => {
    class Plain {}
    expect(() => new EventTypeRegistry().register(Plain)).toThrow(ConfigurationError);
  });

  it('reports an unknown type with the known ones', () => {
    const registry = new EventTypeRegistry([QuestionAsked, AnswerAdded]);
    let thrown: unknown;
    try {
      registry.get('qa.answer.deleted', 1, 'service questions');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UnknownEventTypeError);
    const error = thrown as UnknownEventTypeError;
    expect(error.code).toBe('TIDINGS_UNKNOWN_EVENT_TYPE');
    expect(error.context).toEqual({
      type: 'qa.answer.deleted',
      version: 1,
      known: ['qa.answer.added@1', 'qa.question.asked@1'],
      where: 'service questions',
    });
    expect(error.message).toContain('service questions');
    expect(error.hint).toContain('Known here: qa.answer.added@1, qa.question.asked@1.');
    expect(() => registry.get('qa.answer.added', 2, 'x')).toThrow(UnknownEventTypeError);
  });

  it('shares nothing between instances', () => {
    const first = new EventTypeRegistry([AnswerAdded]);
    const second = new EventTypeRegistry([AnotherAnswerAdded]);
    expect(first.find('qa.answer.added', 1)?.target).toBe(AnswerAdded);
    expect(second.find('qa.answer.added', 1)?.target).toBe(AnotherAnswerAdded);
    expect(new EventTypeRegistry().knownTypes()).toEqual([]);
  });
});

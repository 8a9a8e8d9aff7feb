import { ConfigurationError } from '../errors/configuration.error.js';
import type { EventSchema } from './event-schema.js';
import { findEventDefinition, getEventDefinition, IntegrationEvent } from './integration-event.decorator.js';

/** Runs `fn`, expecting a ConfigurationError, and returns it for further checks. */
const configurationErrorOf = (fn: () => unknown): ConfigurationError => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError, nothing was thrown');
};

describe('@IntegrationEvent', () => {
  it('records type, version, schema and class', () => {
    const schema: EventSchema<{ id: string }> = (data) => data as { id: string };
    @IntegrationEvent('qa.answer.added', { version: 2, schema })
    class AnswerAdded {
      constructor(readonly id: string) {}
    }
    expect(getEventDefinition(AnswerAdded)).toEqual({ type: 'qa.answer.added', version: 2, schema, target: AnswerAdded });
    expect(findEventDefinition(AnswerAdded)).toBe(getEventDefinition(AnswerAdded));
  });

  it('defaults the version to 1 and the schema to none', () => {
    @IntegrationEvent('qa.question.asked')
    class QuestionAsked {}
    expect(getEventDefinition(QuestionAsked)).toEqual({ type: 'qa.question.asked', version: 1, schema: undefined, target: QuestionAsked });
  });

  it.each(['qa', 'qa.answer.added', 'billing-v2.invoice_paid.x', '0.1'])('accepts the type %j', (type) => {
    expect(() => IntegrationEvent(type)).not.toThrow();
  });

  it.each(['Qa.Answer', 'qa..x', 'qa.*', 'qa.#', '', '.qa', 'qa.', 'qa answer', 'qa.-x', 'qa/answer'])('rejects the type %j', (type) => {
    const error = configurationErrorOf(() => IntegrationEvent(type));
    expect(error.code).toBe('TIDINGS_INVALID_CONFIGURATION');
    expect(error.message).toBe(`Invalid event type '${type}'`);
    expect(error.context).toEqual({ type });
    expect(error.hint).toMatch(/qa\.answer\.added/);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects the version %d', (version) => {
    const error = configurationErrorOf(() => IntegrationEvent('qa.answer.added', { version }));
    expect(error.message).toBe(`Invalid version ${version} for event type 'qa.answer.added'`);
    expect(error.context).toEqual({ type: 'qa.answer.added', version });
  });

  it('fails when the decorator is applied, not later', () => {
    expect(() => {
      @IntegrationEvent('Bad.Type')
      class Bad {}
      return Bad;
    }).toThrow(ConfigurationError);
  });
});

describe('getEventDefinition', () => {
  it('refuses an undecorated class, naming it', () => {
    class Plain {}
    const error = configurationErrorOf(() => getEventDefinition(Plain));
    expect(error.message).toBe('Class Plain is not an integration event');
    expect(error.context).toEqual({ class: 'Plain' });
    expect(findEventDefinition(Plain)).toBeUndefined();
  });

  it('is not inherited by subclasses', () => {
    @IntegrationEvent('qa.answer.added')
    class AnswerAdded {}
    class SpecialAnswerAdded extends AnswerAdded {}
    expect(findEventDefinition(SpecialAnswerAdded)).toBeUndefined();
    expect(() => getEventDefinition(SpecialAnswerAdded)).toThrow(ConfigurationError);
    expect(getEventDefinition(AnswerAdded).target).toBe(AnswerAdded);
  });

  it('lets a subclass carry its own definition without changing the parent', () => {
    @IntegrationEvent('qa.answer.added')
    class AnswerAdded {}
    @IntegrationEvent('qa.answer.added', { version: 2 })
    class AnswerAddedV2 extends AnswerAdded {}
    expect(getEventDefinition(AnswerAddedV2)).toMatchObject({ version: 2, target: AnswerAddedV2 });
    expect(getEventDefinition(AnswerAdded)).toMatchObject({ version: 1, target: AnswerAdded });
  });

  it('does not expose the definition as an enumerable property', () => {
    @IntegrationEvent('qa.answer.added')
    class AnswerAdded {}
    expect(Object.keys(AnswerAdded)).toEqual([]);
  });
});

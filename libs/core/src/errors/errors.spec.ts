import {
  ConfigurationError,
  DecodeError,
  DuplicateEventTypeError,
  EncodeError,
  EventValidationError,
  NonRetryableError,
  PayloadTooLargeError,
  RetryableError,
  TidingsError,
  TransportStateError,
  UnknownEventTypeError,
  PublishFailedError,
} from './index.js';

describe('TidingsError subclasses', () => {
  const cause = new Error('root cause');

  it.each<[TidingsError, string, string]>([
    [new ConfigurationError('bad option', 'fix it'), 'ConfigurationError', 'TIDINGS_INVALID_CONFIGURATION'],
    [new DecodeError('bad body'), 'DecodeError', 'TIDINGS_DECODE_FAILED'],
    [new PayloadTooLargeError(11, 10), 'PayloadTooLargeError', 'TIDINGS_PAYLOAD_TOO_LARGE'],
    [new EventValidationError('qa.x', []), 'EventValidationError', 'TIDINGS_EVENT_INVALID'],
    [new UnknownEventTypeError('qa.x', 1, [], 'here'), 'UnknownEventTypeError', 'TIDINGS_UNKNOWN_EVENT_TYPE'],
    [new DuplicateEventTypeError('qa.x', 1, 'A', 'B'), 'DuplicateEventTypeError', 'TIDINGS_DUPLICATE_EVENT_TYPE'],
    [new TransportStateError('memory', 'publish', 'stopped'), 'TransportStateError', 'TIDINGS_TRANSPORT_STATE'],
    [
      new PublishFailedError([{ id: 'id-1', type: 'qa.x', reason: 'unroutable', detail: 'no queue' }], 2),
      'PublishFailedError',
      'TIDINGS_PUBLISH_FAILED',
    ],
    [new EncodeError('qa.x', cause), 'EncodeError', 'TIDINGS_ENCODE_FAILED'],
    [new NonRetryableError('give up'), 'NonRetryableError', 'TIDINGS_NON_RETRYABLE'],
    [new RetryableError('later'), 'RetryableError', 'TIDINGS_RETRYABLE'],
  ])('%s has name %s and code %s', (error, name, code) => {
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(error).toBeInstanceOf(TidingsError);
    expect(error).toBeInstanceOf(Error);
    expect(String(error.stack)).toContain(name);
  });

  it('keeps the name of a user subclass', () => {
    class PaymentDeclined extends NonRetryableError {}
    const error = new PaymentDeclined('card refused');
    expect(error.name).toBe('PaymentDeclined');
    expect(error.code).toBe('TIDINGS_NON_RETRYABLE');
    expect(error).toBeInstanceOf(NonRetryableError);
  });

  it('preserves cause, context and hint', () => {
    const error = new NonRetryableError('gone', { cause, context: { queue: 'q1' }, hint: 'recreate it' });
    expect(error.cause).toBe(cause);
    expect(error.context).toEqual({ queue: 'q1' });
    expect(error.hint).toBe('recreate it');
    expect(error.message).toBe('gone');
  });

  it('has no cause and an empty context when none is given', () => {
    const error = new RetryableError('later');
    expect('cause' in error).toBe(false);
    expect(error.context).toEqual({});
    expect(error.hint).toBeUndefined();
    expect(error.toString()).toBe('RetryableError: later');
  });

  it('appends the hint in toString', () => {
    const error = new ConfigurationError('Invalid x', 'Set x to 1.', { option: 'x' });
    expect(error.hint).toBe('Set x to 1.');
    expect(error.context).toEqual({ option: 'x' });
    expect(error.toString()).toBe('ConfigurationError: Invalid x (hint: Set x to 1.)');
  });

  it('EncodeError keeps the serialisation failure as cause and names the type', () => {
    const error = new EncodeError('qa.answer.added', cause);
    expect(error.cause).toBe(cause);
    expect(error.context).toEqual({ type: 'qa.answer.added' });
    expect(error.message).toContain('qa.answer.added');
    expect(error.hint).toMatch(/plain JSON/);
  });

  it('DecodeError has a default hint that options may replace, and keeps its cause', () => {
    expect(new DecodeError('x').hint).toMatch(/CloudEvents 1\.0/);
    const error = new DecodeError('x', { cause, hint: 'other', context: { attribute: 'id' } });
    expect(error.hint).toBe('other');
    expect(error.cause).toBe(cause);
    expect(error.context).toEqual({ attribute: 'id' });
  });

  it('PayloadTooLargeError reports sizes', () => {
    const error = new PayloadTooLargeError(2048, 1024);
    expect(error.context).toEqual({ sizeBytes: 2048, limitBytes: 1024 });
    expect(error.message).toBe('Message body is 2048 bytes, above the limit of 1024 bytes');
    expect(error.hint).toMatch(/maxMessageBytes/);
  });

  it('EventValidationError carries its issues and summarises them', () => {
    const issues = [
      { path: 'a.b', message: 'must be a string' },
      { path: '', message: 'root is wrong' },
    ];
    const error = new EventValidationError('qa.x', issues);
    expect(error.issues).toEqual(issues);
    expect(error.context).toEqual({ type: 'qa.x', issues });
    expect(error.message).toBe('Event qa.x failed validation: a.b: must be a string; root is wrong');
    expect(new EventValidationError('qa.x', []).message).toBe('Event qa.x failed validation: no details given');
  });

  it('UnknownEventTypeError lists what is known in its hint', () => {
    const error = new UnknownEventTypeError('qa.x', 2, ['qa.a@1', 'qa.b@1'], 'subscription s');
    expect(error.message).toBe('No handler or event class for qa.x (version 2) in subscription s');
    expect(error.context).toEqual({ type: 'qa.x', version: 2, known: ['qa.a@1', 'qa.b@1'], where: 'subscription s' });
    expect(error.hint).toContain("@IntegrationEvent('qa.x', { version: 2 })");
    expect(error.hint).toContain('Known here: qa.a@1, qa.b@1.');
    expect(new UnknownEventTypeError('qa.x', undefined, [], 'w').hint).toContain('Known here: none.');
  });

  it('DuplicateEventTypeError names both classes', () => {
    const error = new DuplicateEventTypeError('qa.x', 3, 'First', 'Second');
    expect(error.message).toBe('Event type qa.x version 3 is claimed by both First and Second');
    expect(error.context).toEqual({ type: 'qa.x', version: 3, existing: 'First', incoming: 'Second' });
  });

  describe('instanceof chains', () => {
    it('DecodeError and EventValidationError are NonRetryableError', () => {
      expect(new DecodeError('x')).toBeInstanceOf(NonRetryableError);
      expect(new EventValidationError('qa.x', [])).toBeInstanceOf(NonRetryableError);
      expect(new UnknownEventTypeError('qa.x', 1, [], 'w')).toBeInstanceOf(NonRetryableError);
    });

    it('PayloadTooLargeError is a DecodeError (so a NonRetryableError)', () => {
      const error = new PayloadTooLargeError(2, 1);
      expect(error).toBeInstanceOf(DecodeError);
      expect(error).toBeInstanceOf(NonRetryableError);
    });

    it('retryable, configuration and encode errors are not NonRetryableError', () => {
      expect(new RetryableError('x')).not.toBeInstanceOf(NonRetryableError);
      expect(new ConfigurationError('x', 'y')).not.toBeInstanceOf(NonRetryableError);
      expect(new EncodeError('qa.x', cause)).not.toBeInstanceOf(NonRetryableError);
      expect(new DecodeError('x')).not.toBeInstanceOf(PayloadTooLargeError);
    });
  });
});

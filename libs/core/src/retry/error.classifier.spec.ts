import { DecodeError } from '../errors/decode.error.js';
import { EventValidationError } from '../errors/event-validation.error.js';
import { NonRetryableError } from '../errors/non-retryable.error.js';
import { PayloadTooLargeError } from '../errors/payload-too-large.error.js';
import { RetryableError } from '../errors/retryable.error.js';
import { UnknownEventTypeError } from '../errors/unknown-event-type.error.js';
import { ErrorClassifier } from './error.classifier.js';

class DriverTimeout extends Error {}
class SlowDriverTimeout extends DriverTimeout {}
class BusinessRuleViolated extends NonRetryableError {}
class QuotaExceeded extends RetryableError {}

describe('ErrorClassifier', () => {
  describe('defaults', () => {
    const classifier = new ErrorClassifier();

    it.each<[string, unknown]>([
      ['NonRetryableError', new NonRetryableError('x')],
      ['a NonRetryableError subclass', new BusinessRuleViolated('x')],
      ['DecodeError', new DecodeError('x')],
      ['PayloadTooLargeError', new PayloadTooLargeError(2, 1)],
      ['EventValidationError', new EventValidationError('qa.x', [])],
      ['UnknownEventTypeError', new UnknownEventTypeError('qa.x', 1, [], 'w')],
    ])('dead-letters %s', (_name, error) => {
      expect(classifier.classify(error)).toBe('dead-letter');
    });

    it.each<[string, unknown]>([
      ['RetryableError', new RetryableError('x')],
      ['a RetryableError subclass', new QuotaExceeded('x')],
      ['a plain Error', new Error('x')],
      ['a TypeError', new TypeError('x')],
      ['a thrown string', 'boom'],
      ['undefined', undefined],
      ['null', null],
      ['a plain object', { message: 'x' }],
    ])('retries %s', (_name, error) => {
      expect(classifier.classify(error)).toBe('retry');
    });

    it('does not match by message text', () => {
      expect(classifier.classify(new Error('NonRetryableError: do not retry'))).toBe('retry');
    });
  });

  describe('overrides', () => {
    it('deadLetterOn dead-letters a matching error and its subclasses', () => {
      const classifier = new ErrorClassifier({ deadLetterOn: [DriverTimeout] });
      expect(classifier.classify(new DriverTimeout())).toBe('dead-letter');
      expect(classifier.classify(new SlowDriverTimeout())).toBe('dead-letter');
      expect(classifier.classify(new Error('x'))).toBe('retry');
    });

    it('deadLetterOn can dead-letter a RetryableError', () => {
      expect(new ErrorClassifier({ deadLetterOn: [QuotaExceeded] }).classify(new QuotaExceeded('x'))).toBe('dead-letter');
      expect(new ErrorClassifier({ deadLetterOn: [QuotaExceeded] }).classify(new RetryableError('x'))).toBe('retry');
    });

    it('retryOn makes a NonRetryableError subclass retry, and only that one', () => {
      const classifier = new ErrorClassifier({ retryOn: [BusinessRuleViolated] });
      expect(classifier.classify(new BusinessRuleViolated('x'))).toBe('retry');
      expect(classifier.classify(new NonRetryableError('x'))).toBe('dead-letter');
      expect(classifier.classify(new DecodeError('x'))).toBe('dead-letter');
    });

    it('retryOn matches subclasses', () => {
      const classifier = new ErrorClassifier({ retryOn: [DecodeError] });
      expect(classifier.classify(new PayloadTooLargeError(2, 1))).toBe('retry');
    });

    it('deadLetterOn beats retryOn', () => {
      const classifier = new ErrorClassifier({ retryOn: [DriverTimeout], deadLetterOn: [DriverTimeout] });
      expect(classifier.classify(new DriverTimeout())).toBe('dead-letter');
      const broad = new ErrorClassifier({ retryOn: [SlowDriverTimeout], deadLetterOn: [Error] });
      expect(broad.classify(new SlowDriverTimeout())).toBe('dead-letter');
    });

    it('a more specific retryOn still loses to a broader deadLetterOn, but wins over the NonRetryableError default', () => {
      const classifier = new ErrorClassifier({ retryOn: [BusinessRuleViolated], deadLetterOn: [DriverTimeout] });
      expect(classifier.classify(new BusinessRuleViolated('x'))).toBe('retry');
      expect(classifier.classify(new DriverTimeout())).toBe('dead-letter');
    });
  });
});

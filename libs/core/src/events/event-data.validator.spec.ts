import { EventValidationError } from '../errors/event-validation.error.js';
import { NonRetryableError } from '../errors/non-retryable.error.js';
import type { StandardSchemaV1 } from './event-schema.js';
import { validateEventData } from './event-data.validator.js';

const standard = <T>(validate: StandardSchemaV1<unknown, T>['~standard']['validate']): StandardSchemaV1<unknown, T> => ({
  '~standard': { version: 1, vendor: 'test', validate },
});

/** A hand-written schema: `{ name: string }`, trimming the name. */
const person = standard<{ name: string }>((value) => {
  const name = (value as { name?: unknown } | null)?.name;
  if (typeof name !== 'string') return { issues: [{ message: 'must be a string', path: ['name'] }] };
  return { value: { name: name.trim() } };
});

const rejectionOf = async (promise: Promise<unknown>): Promise<EventValidationError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EventValidationError);
  return error as EventValidationError;
};

describe('validateEventData', () => {
  describe('with a Standard Schema', () => {
    it('returns the transformed value', async () => {
      await expect(validateEventData('qa.person', person, { name: '  Ada ', extra: 1 })).resolves.toEqual({ name: 'Ada' });
    });

    it('supports an async validate', async () => {
      const slow = standard<number>(async (value) =>
        typeof value === 'number' ? { value: value * 2 } : { issues: [{ message: 'not a number' }] },
      );
      await expect(validateEventData('qa.n', slow, 21)).resolves.toBe(42);
      const error = await rejectionOf(validateEventData('qa.n', slow, 'x'));
      expect(error.issues).toEqual([{ path: '', message: 'not a number' }]);
    });

    it('turns issues into an EventValidationError with dotted paths', async () => {
      const schema = standard<never>(() => ({
        issues: [
          { message: 'must be a string', path: ['a', 'b'] },
          { message: 'too short', path: [{ key: 'items' }, { key: 0 }, 'title'] },
          { message: 'no path' },
          { message: 'empty path', path: [] },
        ],
      }));
      const error = await rejectionOf(validateEventData('qa.answer.added', schema, {}));
      expect(error).toBeInstanceOf(NonRetryableError);
      expect(error.code).toBe('TIDINGS_EVENT_INVALID');
      expect(error.issues).toEqual([
        { path: 'a.b', message: 'must be a string' },
        { path: 'items.0.title', message: 'too short' },
        { path: '', message: 'no path' },
        { path: '', message: 'empty path' },
      ]);
      expect(error.message).toBe(
        'Event qa.answer.added failed validation: a.b: must be a string; items.0.title: too short; no path; empty path',
      );
      expect(error.context).toMatchObject({ type: 'qa.answer.added' });
    });

    it('reports a simple failure from the hand-written schema', async () => {
      const error = await rejectionOf(validateEventData('qa.person', person, { name: 7 }));
      expect(error.issues).toEqual([{ path: 'name', message: 'must be a string' }]);
    });
  });

  describe('with a function', () => {
    it('returns what the function returns', async () => {
      await expect(validateEventData('qa.n', (data) => Number(data) + 1, '41')).resolves.toBe(42);
    });

    it('turns a thrown Error into an issue at the root', async () => {
      const error = await rejectionOf(
        validateEventData(
          'qa.n',
          () => {
            throw new RangeError('out of range');
          },
          1,
        ),
      );
      expect(error.issues).toEqual([{ path: '', message: 'out of range' }]);
      expect(error.message).toBe('Event qa.n failed validation: out of range');
    });

    it('turns a thrown non-Error into an issue', async () => {
      const error = await rejectionOf(
        validateEventData(
          'qa.n',
          () => {
            throw 'nope';
          },
          1,
        ),
      );
      expect(error.issues).toEqual([{ path: '', message: 'nope' }]);
    });

    it('passes an EventValidationError through unchanged', async () => {
      const original = new EventValidationError('qa.n', [{ path: 'a.b', message: 'bad' }]);
      const error = await rejectionOf(
        validateEventData(
          'qa.n',
          () => {
            throw original;
          },
          1,
        ),
      );
      expect(error).toBe(original);
    });

    it('turns the rejection of an async function into an EventValidationError too', async () => {
      const asyncSchema = async (data: unknown): Promise<number> => {
        if (typeof data !== 'number') throw new Error('expected a number');
        return data;
      };
      await expect(validateEventData('qa.n', asyncSchema, 3)).resolves.toBe(3);
      const error = await rejectionOf(validateEventData('qa.n', asyncSchema, 'x'));
      expect(error.issues).toEqual([{ path: '', message: 'expected a number' }]);
    });
  });
});

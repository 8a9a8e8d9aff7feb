import { EventValidationError, type ValidationIssue } from '../errors/event-validation.error.js';
import type { EventSchema, StandardSchemaV1 } from './event-schema.js';

const pathOf = (issue: StandardSchemaV1.Issue): string =>
  (issue.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.');

/**
 * Checks data against a schema and returns the schema's output. Issues reported by a Standard Schema and
 * errors thrown by a function schema become an {@link EventValidationError} (non-retryable). An exception
 * thrown by a Standard Schema's own `validate` is passed on as it is: it is a fault of the validator
 * (perhaps transient, such as a lookup), not a verdict on the data.
 */
export async function validateEventData<T>(type: string, schema: EventSchema<T>, data: unknown): Promise<T> {
  if (typeof schema === 'function') {
    try {
      // `await`, so a function returning a rejected promise is caught here too.
      return await schema(data);
    } catch (error) {
      if (error instanceof EventValidationError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new EventValidationError(type, [{ path: '', message }]);
    }
  }
  const result = await schema['~standard'].validate(data);
  if (result.issues) {
    const issues: ValidationIssue[] = result.issues.map((issue) => ({ path: pathOf(issue), message: issue.message }));
    throw new EventValidationError(type, issues);
  }
  return result.value;
}

import { NonRetryableError } from './non-retryable.error.js';

/** One problem found by a schema: where it is (a dotted path, '' for the root) and what is wrong. */
export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

/** An event's data violates its schema; retrying cannot fix it. */
export class EventValidationError extends NonRetryableError {
  override readonly code = 'TIDINGS_EVENT_INVALID';
  readonly issues: readonly ValidationIssue[];

  constructor(type: string, issues: readonly ValidationIssue[]) {
    const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
    super(`Event ${type} failed validation: ${summary || 'no details given'}`, {
      context: { type, issues },
      hint: 'The producer and consumer disagree on the event schema; publish a new version of the event instead of changing it in place.',
    });
    this.issues = issues;
  }
}

import { NonRetryableError } from '../errors/non-retryable.error.js';

/** An error class to match with `instanceof`. */
// `never[]` parameters accept every constructor (parameters are contravariant) without resorting to `any`.
export type ErrorClass = abstract new (...args: never[]) => Error;

/** Per-handler overrides of the default classification. */
export interface ErrorClassifierOptions {
  /** Errors (and subclasses) to retry even if they would dead-letter, e.g. a driver's timeout error. */
  readonly retryOn?: readonly ErrorClass[];
  /** Errors (and subclasses) to dead-letter at once; checked before `retryOn`. */
  readonly deadLetterOn?: readonly ErrorClass[];
}

/** How a failure is handled: retried (until attempts run out) or dead-lettered now. */
export type FailureClassification = 'retry' | 'dead-letter';

/**
 * Classifies by type, never by message text. Order: `deadLetterOn`, then `retryOn`, then
 * {@link NonRetryableError} (decode and validation errors included) → dead-letter,
 * `RetryableError` → retry, and anything unknown → retry (it may be transient; retries are bounded).
 */
export class ErrorClassifier {
  private readonly retryOn: readonly ErrorClass[];
  private readonly deadLetterOn: readonly ErrorClass[];

  constructor(options: ErrorClassifierOptions = {}) {
    this.retryOn = options.retryOn ?? [];
    this.deadLetterOn = options.deadLetterOn ?? [];
  }

  classify(error: unknown): FailureClassification {
    if (this.deadLetterOn.some((c) => error instanceof c)) return 'dead-letter';
    if (this.retryOn.some((c) => error instanceof c)) return 'retry';
    if (error instanceof NonRetryableError) return 'dead-letter';
    // RetryableError and every unknown error: it may be transient, and retries are bounded.
    return 'retry';
  }
}

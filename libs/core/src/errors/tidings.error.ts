/** Structured details attached to an error; values must be safe to log (never credentials). */
export type ErrorContext = Readonly<Record<string, unknown>>;

/** Options every {@link TidingsError} accepts. */
export interface TidingsErrorOptions {
  /** Facts about the failure (queue, event type, sizes...), safe to log. */
  readonly context?: ErrorContext;
  /** The error that caused this one. */
  readonly cause?: unknown;
  /** How to fix it, in one sentence addressed to the developer or operator. */
  readonly hint?: string;
}

/**
 * Base class of every error Tidings throws.
 *
 * `code` is stable across versions (match on it or on the class, never on the message);
 * `hint` says how to fix the problem; `context` carries the facts.
 */
export abstract class TidingsError extends Error {
  /** Stable, machine-readable identifier, e.g. `TIDINGS_UNKNOWN_EVENT_TYPE`. */
  abstract readonly code: string;
  readonly context: ErrorContext;
  readonly hint: string | undefined;

  protected constructor(message: string, options: TidingsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.context = options.context ?? {};
    this.hint = options.hint;
  }

  /** The message followed by the hint, for logs and startup failures. */
  override toString(): string {
    return this.hint ? `${this.name}: ${this.message} (hint: ${this.hint})` : `${this.name}: ${this.message}`;
  }
}

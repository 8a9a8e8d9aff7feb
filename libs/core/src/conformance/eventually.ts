import { DEFAULT_WAIT_MS } from './latch.js';

/** Options of {@link eventually}. */
export interface EventuallyOptions {
  /** Give up after this long. @default 5000 */
  readonly timeoutMs?: number;
  /** Pause between checks. @default 10 */
  readonly intervalMs?: number;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` until it passes (returns without throwing, and not `false`), then returns its value.
 * For state that gives no signal when it changes (a broker's dead-letter queue, say). Rejects at the
 * deadline with the last failure, so an assertion inside `check` explains what was never met.
 *
 * @example
 * ```ts
 * const [letter] = await eventually(async () => {
 *   const letters = await target.deadLetters(queue);
 *   expect(letters).toHaveLength(1);
 *   return letters;
 * });
 * ```
 */
export async function eventually<T>(check: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
  const intervalMs = options.intervalMs ?? 10;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let failure: unknown;
    try {
      const value = await check();
      if (value !== false) return value;
      failure = new Error('the check returned false');
    } catch (error) {
      failure = error;
    }
    if (Date.now() >= deadline) {
      const detail = failure instanceof Error ? failure.message : String(failure);
      throw new Error(`Condition not met within ${timeoutMs} ms; last check: ${detail}`, { cause: failure });
    }
    await pause(intervalMs);
  }
}

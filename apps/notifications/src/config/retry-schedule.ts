import type { RetryOptions } from '@tidings/core';
import type { NotificationsConfig } from './notifications.config.js';

/** Each retry waits this many times longer than the one before, up to {@link LONGEST}. */
const GROWTH = 3;
/** The longest wait, in units of the first delay: with the default 1 s, retries wait 1 s, 3 s, then 9 s. */
const LONGEST = GROWTH * GROWTH;

/**
 * The retry schedule of the notification handlers: `retryDelayMs`, ×3, ×9, ×9... for `maxAttempts` attempts in all.
 *
 * The delays are exact tiers (one delay queue each on RabbitMQ: `.retry.1s`, `.retry.3s`, `.retry.9s` by default),
 * so a retry waits exactly its tier; only the tiers the schedule reaches are declared. Jitter is off: it could not
 * move a delay to a tier three times away, so it would only make the schedule harder to read.
 */
export function notifyRetryOptions(config: Pick<NotificationsConfig, 'maxAttempts' | 'retryDelayMs'>): RetryOptions {
  const { maxAttempts, retryDelayMs } = config;
  const delays = Array.from({ length: Math.max(1, maxAttempts - 1) }, (_, i) => retryDelayMs * Math.min(GROWTH ** i, LONGEST));
  return {
    maxAttempts,
    initialDelayMs: retryDelayMs,
    multiplier: GROWTH,
    maxDelayMs: retryDelayMs * LONGEST,
    jitter: 0,
    tiersMs: [...new Set(delays)],
  };
}

/** How a delay reads in a queue name: `500ms`, `10s`, `5m`, `2h`. */
export function formatDelay(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** The retry tier queue of a subscription queue: `notifications.answers.retry.10s`. */
export const retryQueueName = (queue: string, delayMs: number): string => `${queue}.retry.${formatDelay(delayMs)}`;

/** The dead-letter queue of a subscription queue: `notifications.answers.dlq`. */
export const deadLetterQueueName = (queue: string): string => `${queue}.dlq`;

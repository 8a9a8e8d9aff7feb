import { deadLetterQueueName, formatDelay, retryQueueName } from './topology.names.js';

describe('topology names', () => {
  it.each([
    [250, '250ms'],
    [1000, '1s'],
    [1500, '1500ms'],
    [10_000, '10s'],
    [60_000, '1m'],
    [90_000, '90s'],
    [3_600_000, '1h'],
  ])('formats %i ms as %s', (ms, text) => expect(formatDelay(ms)).toBe(text));

  it('names retry and dead-letter queues after their work queue', () => {
    expect(retryQueueName('notifications.answers', 10_000)).toBe('notifications.answers.retry.10s');
    expect(deadLetterQueueName('notifications.answers')).toBe('notifications.answers.dlq');
  });
});

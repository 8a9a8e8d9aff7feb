import { RetryPolicy } from '@tidings/core';
import { notifyRetryOptions } from './retry-schedule.js';

/** The delay before each retry the policy makes, until it gives up. */
const schedule = (maxAttempts: number, retryDelayMs: number): number[] => {
  const policy = new RetryPolicy(notifyRetryOptions({ maxAttempts, retryDelayMs }));
  const delays: number[] = [];
  for (let attempt = 1; ; attempt++) {
    const decision = policy.decide(attempt);
    if (!decision.retry) return delays;
    delays.push(decision.delayMs);
  }
};

describe('notifyRetryOptions', () => {
  it('retries after 1 s, 3 s and 9 s by default, then gives up: 4 attempts in about 13 s', () => {
    expect(schedule(4, 1000)).toEqual([1000, 3000, 9000]);
    expect(notifyRetryOptions({ maxAttempts: 4, retryDelayMs: 1000 }).tiersMs).toEqual([1000, 3000, 9000]);
  });

  it('keeps waiting the longest tier past the third retry', () => {
    expect(schedule(6, 10)).toEqual([10, 30, 90, 90, 90]);
    expect(notifyRetryOptions({ maxAttempts: 6, retryDelayMs: 10 }).tiersMs).toEqual([10, 30, 90]);
  });

  it('declares only the tiers the schedule reaches', () => {
    expect(schedule(2, 500)).toEqual([500]);
    expect(notifyRetryOptions({ maxAttempts: 2, retryDelayMs: 500 }).tiersMs).toEqual([500]);
    // One attempt never retries, but a subscription still needs a tier to be valid.
    expect(schedule(1, 500)).toEqual([]);
    expect(notifyRetryOptions({ maxAttempts: 1, retryDelayMs: 500 }).tiersMs).toEqual([500]);
  });
});

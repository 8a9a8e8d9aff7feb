import { decodeMessage } from '../../decoding/envelope.codec.js';
import { NonRetryableError } from '../../errors/non-retryable.error.js';
import type { EventContext } from '../../pipeline/event-context.js';
import type { RetryPolicy } from '../../retry/retry.policy.js';
import { TEST_TIMEOUT_MS, type SuiteContext } from '../conformance.fixture.js';
import { Recorder } from '../recorder.js';

/** A failure the handler expects to go away (a dependency being down). */
class DependencyDownError extends Error {
  override name = 'DependencyDownError';
}

/** Timers may fire a millisecond early, and timestamps are truncated to milliseconds. */
const TIMER_SLACK_MS = 5;

/** The delay the policy chose after `attempt` failed. */
const delayAfter = (policy: RetryPolicy, attempt: number): number => {
  const decision = policy.decide(attempt);
  return decision.retry ? decision.delayMs : 0;
};

const flagged = (data: unknown, flag: string): boolean =>
  typeof data === 'object' && data !== null && (data as Record<string, unknown>)[flag] === true;

/** Retries through the tiers, and dead letters with their reasons once retrying stops. */
export function retryCases({ api: { it, expect }, fixture }: SuiteContext): void {
  it(
    'retries a transient failure after the tier delays, then succeeds with exactly one effect',
    async () => {
      const fx = fixture();
      const Event = fx.defineEvent('flaky.call');
      const retry = { maxAttempts: 5 };
      const attempts: { readonly attempt: number; readonly at: number }[] = [];
      const effects = new Recorder('effects');
      const handle = (data: unknown, context: EventContext): void => {
        if (flagged(data, 'flaky')) {
          attempts.push({ attempt: context.attempt, at: Date.now() });
          if (context.attempt < 3) throw new DependencyDownError(`attempt ${context.attempt} failed`);
        }
        effects.record(data, context);
      };
      const consumer = await fx.started('flaky');
      const queue = await fx.subscribe(consumer, 'flaky', { handlers: [fx.handler(Event, handle, retry)] });
      const publisher = await fx.started('flaky-publisher');

      const id = await fx.publishOne(publisher, Event, { flaky: true });
      await effects.waitForId(id);
      // Anything still owed to the flaky event (a stray retry) would come before this marker.
      const marker = await fx.publishOne(publisher, Event, { flaky: false });
      await effects.waitForId(marker);

      expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
      expect(effects.ids()).toEqual([id, marker]);
      expect(await fx.target.deadLetters(queue)).toHaveLength(0);
      // Each retry waited (at least) the tier its policy chose.
      const policy = fx.retryPolicy(retry);
      for (const [i, failed] of attempts.slice(0, 2).entries()) {
        const waited = (attempts[i + 1]?.at ?? 0) - failed.at;
        expect(waited).toBeGreaterThanOrEqual(delayAfter(policy, failed.attempt) - TIMER_SLACK_MS);
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'dead-letters once retries are exhausted, saying why and after how many attempts',
    async () => {
      const fx = fixture();
      const Event = fx.defineEvent('doomed.call');
      const attempts: number[] = [];
      const succeeded = new Recorder('succeeded');
      const handle = (data: unknown, context: EventContext): void => {
        if (!flagged(data, 'doomed')) return succeeded.record(data, context);
        attempts.push(context.attempt);
        throw new DependencyDownError('payment service unavailable');
      };
      const consumer = await fx.started('doomed');
      const queue = await fx.subscribe(consumer, 'doomed', { handlers: [fx.handler(Event, handle, { maxAttempts: 3 })] });
      const publisher = await fx.started('doomed-publisher');

      const id = await fx.publishOne(publisher, Event, { doomed: true });
      const letter = await fx.firstDeadLetter(queue);
      const marker = await fx.publishOne(publisher, Event, { doomed: false });
      await succeeded.waitForId(marker);

      expect(letter.reason).toMatchObject({
        code: 'TIDINGS_HANDLER_FAILED',
        errorName: 'DependencyDownError',
        message: 'payment service unavailable',
        attempts: 3,
        routingKey: fx.type('doomed.call'),
        subscription: queue,
      });
      // The failure history travelled with the retries: the first failure is two tier delays before the last.
      const policy = fx.retryPolicy({ maxAttempts: 3 });
      const span = Date.parse(letter.reason.lastFailureAt) - Date.parse(letter.reason.firstFailureAt);
      expect(span).toBeGreaterThanOrEqual(delayAfter(policy, 1) + delayAfter(policy, 2) - TIMER_SLACK_MS);
      expect(decodeMessage(letter.message).id).toBe(id);
      expect(attempts).toEqual([1, 2, 3]);
      expect(await fx.target.deadLetters(queue)).toHaveLength(1);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'dead-letters a NonRetryableError after exactly one attempt',
    async () => {
      const fx = fixture();
      const Event = fx.defineEvent('refused.order');
      const calls = new Recorder('calls');
      const handle = (data: unknown, context: EventContext): void => {
        calls.record(data, context);
        if (flagged(data, 'refuse')) throw new NonRetryableError('order 42 no longer exists');
      };
      const consumer = await fx.started('refuse');
      const queue = await fx.subscribe(consumer, 'refuse', { handlers: [fx.handler(Event, handle, { maxAttempts: 5 })] });
      const publisher = await fx.started('refuse-publisher');

      const id = await fx.publishOne(publisher, Event, { refuse: true });
      const letter = await fx.firstDeadLetter(queue);
      const marker = await fx.publishOne(publisher, Event, { refuse: false });
      await calls.waitForId(marker);

      expect(letter.reason).toMatchObject({
        code: 'TIDINGS_NON_RETRYABLE',
        errorName: 'NonRetryableError',
        message: 'order 42 no longer exists',
        attempts: 1,
      });
      expect(calls.ids()).toEqual([id, marker]);
    },
    TEST_TIMEOUT_MS,
  );
}

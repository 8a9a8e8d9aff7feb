import { ConfigurationError, ErrorClassifier } from '@tidings/core';
import type { PushMessage } from './push-provider.js';
import { PushUnavailableError } from './push-unavailable.error.js';
import { SimulatedPushProvider } from './simulated-push.provider.js';
import { UnknownDeviceError } from './unknown-device.error.js';

const push = (userId: string, collapseKey = 'a1'): PushMessage => ({ userId, title: 'New answer', body: 'ben answered', collapseKey });

/** A random source that returns `values` in turn. */
const sequence = (...values: number[]): (() => number) => {
  let next = 0;
  return () => values[next++ % values.length] ?? 0;
};

describe('SimulatedPushProvider', () => {
  it('delivers every push by default and records it', async () => {
    const provider = new SimulatedPushProvider();
    await provider.send(push('ana', 'a1'));
    await provider.send(push('ana', 'a2'));
    expect(provider.delivered.map((p) => p.collapseKey)).toEqual(['a1', 'a2']);
    expect(provider.attempts).toBe(2);
  });

  it('fails transiently exactly when the random draw is below the failure rate', async () => {
    const provider = new SimulatedPushProvider({ failureRate: 0.5, random: sequence(0.49, 0.5, 0.1, 0.99) });
    const outcomes = [];
    for (let i = 0; i < 4; i++)
      outcomes.push(
        await provider.send(push('ana', `a${i}`)).then(
          () => 'sent',
          (e: unknown) => e,
        ),
      );
    expect(outcomes[0]).toBeInstanceOf(PushUnavailableError);
    expect(outcomes[1]).toBe('sent');
    expect(outcomes[2]).toBeInstanceOf(PushUnavailableError);
    expect(outcomes[3]).toBe('sent');
    expect(provider.delivered.map((p) => p.collapseKey)).toEqual(['a1', 'a3']);
    expect(provider.attempts).toBe(4);
  });

  it('never fails at rate 0 and always fails at rate 1', async () => {
    const never = new SimulatedPushProvider({ failureRate: 0, random: () => 0 });
    await expect(never.send(push('ana'))).resolves.toBeUndefined();
    const always = new SimulatedPushProvider({ failureRate: 1, random: () => 0.999_999 });
    await expect(always.send(push('ana'))).rejects.toThrow('The push service is unavailable; the push to ana was not sent');
    expect(always.delivered).toEqual([]);
  });

  it('fails for good for a user without a device, before any random draw', async () => {
    let draws = 0;
    const random = (): number => (draws++, 0.99);
    const provider = new SimulatedPushProvider({ failureRate: 0.5, unregisteredUsers: ['zoe'], random });
    await expect(provider.send(push('zoe'))).rejects.toThrow(new UnknownDeviceError('zoe'));
    expect(draws).toBe(0);
    await provider.send(push('ana'));
    expect(draws).toBe(1);
    expect(provider.delivered.map((p) => p.userId)).toEqual(['ana']);
  });

  it('fails with classes the event bus retries (transient) and dead-letters (permanent)', () => {
    const classifier = new ErrorClassifier();
    expect(classifier.classify(new PushUnavailableError('ana'))).toBe('retry');
    expect(classifier.classify(new UnknownDeviceError('zoe'))).toBe('dead-letter');
    expect(new PushUnavailableError('ana')).toMatchObject({ name: 'PushUnavailableError', code: 'NOTIFY_PUSH_UNAVAILABLE' });
    expect(new UnknownDeviceError('zoe')).toMatchObject({ name: 'UnknownDeviceError', code: 'NOTIFY_UNKNOWN_DEVICE' });
  });

  it.each([-0.1, 1.1, Number.NaN])('refuses failure rate %p', (failureRate) => {
    expect(() => new SimulatedPushProvider({ failureRate })).toThrow(ConfigurationError);
  });
});

import { ConfigurationError } from '../errors/configuration.error.js';
import { OutboxBackpressure } from './outbox-backpressure.js';
import type { OutboxBacklog } from './outbox.store.js';

class Backlog {
  reads = 0;
  pending = 0;
  fail = false;
  async backlog(): Promise<OutboxBacklog> {
    this.reads += 1;
    if (this.fail) throw new Error('database away');
    return { pending: this.pending, due: this.pending };
  }
}

describe('OutboxBackpressure', () => {
  let now = 0;
  const clock = (): number => now;

  beforeEach(() => {
    now = 0;
  });

  it('refuses work above the bound, advising a wait from the relay rate, and accepts again once drained', async () => {
    const store = new Backlog();
    let rate = 100;
    const pressure = new OutboxBackpressure(store, { maxPending: 1000 }, () => rate, clock);
    store.pending = 1000;
    await expect(pressure.check()).resolves.toEqual({ overloaded: false, pending: 1000, retryAfterSeconds: 0 });
    now += 500;
    store.pending = 1450;
    await expect(pressure.check()).resolves.toEqual({ overloaded: true, pending: 1450, retryAfterSeconds: 5 });
    now += 500;
    rate = 0; // relay stalled: the advice is capped
    store.pending = 500_000;
    await expect(pressure.check()).resolves.toMatchObject({ overloaded: true, retryAfterSeconds: 60 });
    now += 500;
    store.pending = 10;
    await expect(pressure.check()).resolves.toMatchObject({ overloaded: false, pending: 10 });
  });

  it('reads the backlog once per refresh interval, however many requests ask at once', async () => {
    const store = new Backlog();
    const pressure = new OutboxBackpressure(store, { maxPending: 5, refreshMs: 500 }, undefined, clock);
    store.pending = 9;
    const verdicts = await Promise.all(Array.from({ length: 50 }, () => pressure.check()));
    expect(verdicts.every((v) => v.overloaded)).toBe(true);
    expect(store.reads).toBe(1);
    now += 499;
    await pressure.check();
    expect(store.reads).toBe(1);
    now += 1;
    await pressure.check();
    expect(store.reads).toBe(2);
  });

  it('keeps the last verdict when the backlog cannot be read', async () => {
    const store = new Backlog();
    const pressure = new OutboxBackpressure(store, { maxPending: 5 }, undefined, clock);
    store.pending = 8;
    await expect(pressure.check()).resolves.toMatchObject({ overloaded: true, pending: 8 });
    store.fail = true;
    now += 1000;
    await expect(pressure.check()).resolves.toMatchObject({ overloaded: true, pending: 8 });
    expect(store.reads).toBe(2);
  });

  it('refuses a bound that is not a positive whole number', () => {
    expect(() => new OutboxBackpressure(new Backlog(), { maxPending: 0 })).toThrow(ConfigurationError);
  });
});

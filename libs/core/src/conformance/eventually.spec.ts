import { eventually } from './eventually.js';

describe('eventually', () => {
  it('returns the value of the first check that passes', async () => {
    let calls = 0;
    const value = await eventually(() => {
      calls++;
      if (calls < 3) throw new Error('not yet');
      return 'done';
    });
    expect(value).toBe('done');
    expect(calls).toBe(3);
  });

  it('treats a check returning false as not met', async () => {
    let calls = 0;
    await eventually(async () => ++calls >= 2);
    expect(calls).toBe(2);
  });

  it('rejects at the deadline with the last failure', async () => {
    const failing = eventually(
      () => {
        throw new Error('queue is still empty');
      },
      { timeoutMs: 30, intervalMs: 5 },
    );
    await expect(failing).rejects.toThrow('Condition not met within 30 ms; last check: queue is still empty');
  });
});

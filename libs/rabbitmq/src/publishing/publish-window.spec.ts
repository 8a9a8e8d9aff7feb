import { PublishWindow } from './publish-window.js';

describe('PublishWindow', () => {
  it('admits up to its size, then hands each released slot to the next waiter in order', async () => {
    const window = new PublishWindow(2);
    const order: number[] = [];
    await window.acquire();
    await window.acquire();
    const waiting = [3, 4, 5].map((n) => window.acquire().then(() => order.push(n)));
    expect(window.inFlight).toBe(2);

    window.release();
    window.release();
    await Promise.resolve();
    expect(order).toEqual([3, 4]);
    window.release();
    await Promise.all(waiting);
    expect(order).toEqual([3, 4, 5]);
    expect(window.inFlight).toBe(2);

    window.release();
    window.release();
    expect(window.inFlight).toBe(0);
    await window.acquire(); // the emptied queue is reused
    expect(window.inFlight).toBe(1);
  });
});

import { withDeadline } from './deadline.js';
import { Gate } from './gate.js';
import { Latch } from './latch.js';

describe('Latch', () => {
  it('resolves once the count reaches the target', async () => {
    const latch = new Latch('orders', 2);
    const waiting = latch.wait(1000);
    latch.arrive();
    latch.arrive();
    await waiting;
    expect(latch.count).toBe(2);
  });

  it('resolves at once when the count was already reached', async () => {
    const latch = new Latch('orders');
    latch.arrive(3);
    await latch.waitFor(3, 1);
  });

  it('rejects at the deadline, saying what it waited for and how far it got', async () => {
    const latch = new Latch('invoices sent', 3);
    latch.arrive();
    await expect(latch.wait(20)).rejects.toThrow("Latch 'invoices sent' timed out after 20 ms waiting for a count of 3; count is 1");
  });

  it('waits for any condition, checked after each arrival', async () => {
    const seen: string[] = [];
    const latch = new Latch('ids');
    const waiting = latch.until(() => seen.includes('b'), 1000, 'id b');
    seen.push('a');
    latch.arrive();
    seen.push('b');
    latch.arrive();
    await waiting;
    await expect(latch.until(() => false, 10, 'id z')).rejects.toThrow('waiting for id z');
  });
});

describe('Gate', () => {
  it('holds waiters until opened, and lets later ones through', async () => {
    const gate = new Gate();
    let passed = false;
    const waiter = gate.opened.then(() => {
      passed = true;
    });
    expect(gate.isOpened).toBe(false);
    gate.open();
    await waiter;
    expect(passed).toBe(true);
    await gate.opened;
  });
});

describe('withDeadline', () => {
  it('passes the result through when the promise settles in time', async () => {
    await expect(withDeadline(Promise.resolve(42), 1000, 'the answer')).resolves.toBe(42);
  });

  it('rejects naming what it waited for when the promise is late', async () => {
    await expect(withDeadline(new Gate().opened, 10, 'stop() to resolve')).rejects.toThrow(
      'Timed out after 10 ms waiting for stop() to resolve',
    );
  });
});

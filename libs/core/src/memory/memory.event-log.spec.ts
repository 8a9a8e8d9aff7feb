import { jest } from '@jest/globals';
import { withDeadline } from '../conformance/deadline.js';
import type { LogEntry } from '../transport/event-log.js';
import type { OutboundMessage } from '../transport/transport-message.js';
import { MemoryEventLog } from './memory.event-log.js';

const message = (n: number): OutboundMessage => ({
  routingKey: 'spec.logged',
  body: new TextEncoder().encode(JSON.stringify({ n })),
  contentType: 'application/json',
  attributes: { id: `id-${n}` },
});

const idOf = (entry: LogEntry | undefined): unknown => entry?.message.attributes['id'];

/** A log holding `count` entries, numbered from 0. */
function logOf(count: number): MemoryEventLog {
  const log = new MemoryEventLog();
  for (let n = 0; n < count; n++) log.append(message(n));
  return log;
}

async function all(entries: AsyncIterable<LogEntry>): Promise<LogEntry[]> {
  const collected: LogEntry[] = [];
  for await (const entry of entries) collected.push(entry);
  return collected;
}

/** Every microtask queued so far (and those they queue) has run: the log does no I/O. */
const drainMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Whether `promise` has settled once every pending microtask ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await drainMicrotasks();
  return done;
}

describe('MemoryEventLog', () => {
  describe('without follow', () => {
    it('yields the entries from a position up to the head as it was when iteration started', async () => {
      const log = logOf(4);
      const iterator = log.read(1)[Symbol.asyncIterator]();

      const first = await iterator.next();
      log.append(message(4)); // after iteration started: not part of this read
      const rest: unknown[] = [];
      for (let step = await iterator.next(); !step.done; step = await iterator.next()) rest.push(idOf(step.value));

      expect(idOf(first.value)).toBe('id-1');
      expect(rest).toEqual(['id-2', 'id-3']);
      expect(await log.head()).toBe(5);
    });

    it('yields nothing from the head or beyond, and returns at once', async () => {
      const log = logOf(2);
      expect(await all(log.read(2))).toEqual([]);
      expect(await all(log.read(10))).toEqual([]);
    });

    it('returns once the signal aborts', async () => {
      const log = logOf(5);
      const controller = new AbortController();
      const read: unknown[] = [];
      for await (const entry of log.read(0, { signal: controller.signal })) {
        read.push(idOf(entry));
        if (read.length === 2) controller.abort();
      }
      expect(read).toEqual(['id-0', 'id-1']);
    });
  });

  describe('with follow', () => {
    it('yields what was there, then later appends as they come, in order with consecutive positions', async () => {
      const log = logOf(2);
      const controller = new AbortController();
      const iterator = log.read(0, { follow: true, signal: controller.signal })[Symbol.asyncIterator]();

      const early = [await iterator.next(), await iterator.next()];
      const waiting = iterator.next();
      expect(await settled(waiting)).toBe(false);
      log.append(message(2));
      log.append(message(3));
      const late = [await waiting, await iterator.next()];
      controller.abort();

      const entries = [...early, ...late].map((step) => step.value as LogEntry);
      expect(entries.map(idOf)).toEqual(['id-0', 'id-1', 'id-2', 'id-3']);
      expect(entries.map((e) => e.position)).toEqual([0, 1, 2, 3]);
      expect(await iterator.next()).toEqual({ done: true, value: undefined });
    });

    it('returns promptly when the signal aborts while it waits, and leaves no listener on the signal', async () => {
      const log = logOf(1);
      const controller = new AbortController();
      const added = jest.spyOn(controller.signal, 'addEventListener');
      const removed = jest.spyOn(controller.signal, 'removeEventListener');
      const iterator = log.read(0, { follow: true, signal: controller.signal })[Symbol.asyncIterator]();
      await iterator.next();
      const waiting = iterator.next();
      expect(await settled(waiting)).toBe(false);

      controller.abort();

      expect(await withDeadline(waiting, 100, 'the following read to return')).toEqual({ done: true, value: undefined });
      expect(added).toHaveBeenCalledTimes(1);
      expect(removed).toHaveBeenCalledTimes(1);
      expect(removed.mock.calls[0]?.[1]).toBe(added.mock.calls[0]?.[1]);
    });

    it('removes its listener from the signal after each append it waited for', async () => {
      const log = logOf(0);
      const controller = new AbortController();
      const added = jest.spyOn(controller.signal, 'addEventListener');
      const removed = jest.spyOn(controller.signal, 'removeEventListener');
      const iterator = log.read(0, { follow: true, signal: controller.signal })[Symbol.asyncIterator]();

      for (let n = 0; n < 3; n++) {
        const waiting = iterator.next();
        await drainMicrotasks();
        log.append(message(n));
        expect(idOf((await waiting).value as LogEntry)).toBe(`id-${n}`);
      }
      controller.abort();

      expect(added).toHaveBeenCalledTimes(3);
      expect(removed).toHaveBeenCalledTimes(3);
    });

    it('from beyond the end, waits for that position and yields from there', async () => {
      const log = logOf(1);
      const controller = new AbortController();
      const iterator = log.read(3, { follow: true, signal: controller.signal })[Symbol.asyncIterator]();
      const waiting = iterator.next();

      log.append(message(1));
      log.append(message(2));
      expect(await settled(waiting)).toBe(false);
      log.append(message(3));
      log.append(message(4));

      expect(idOf((await waiting).value as LogEntry)).toBe('id-3');
      expect(idOf((await iterator.next()).value as LogEntry)).toBe('id-4');
      controller.abort();
      expect((await iterator.next()).done).toBe(true);
    });

    it('yields nothing when the signal aborted before the read', async () => {
      const log = logOf(3);
      expect(await all(log.read(0, { follow: true, signal: AbortSignal.abort() }))).toEqual([]);
    });

    it('lets several following reads wait at once, each woken by the same append', async () => {
      const log = logOf(0);
      const controller = new AbortController();
      const readers = [0, 1].map(() => log.read(0, { follow: true, signal: controller.signal })[Symbol.asyncIterator]());
      const waiting = readers.map((reader) => reader.next());

      log.append(message(0));

      expect((await Promise.all(waiting)).map((step) => idOf(step.value as LogEntry))).toEqual(['id-0', 'id-0']);
      controller.abort();
    });
  });
});

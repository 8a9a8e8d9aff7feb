import { MemoryEventLog } from '../memory/memory.event-log.js';
import type { EventLog, EventLogReadOptions, LogEntry } from '../transport/event-log.js';
import { LogBatchReader } from './log-batch.reader.js';
import { publish, settle } from './projection-test-store.spec-helper.js';

/** Counts what the log handed to the reader, and can fail the read on reaching a position. */
class CountingLog implements EventLog {
  yielded = 0;

  constructor(
    private readonly inner: EventLog,
    private readonly failAt?: { readonly position: number; readonly error: Error },
  ) {}

  head(): Promise<number> {
    return this.inner.head();
  }

  async *read(from: number, options?: EventLogReadOptions): AsyncIterable<LogEntry> {
    for await (const entry of this.inner.read(from, options)) {
      if (this.failAt && entry.position === this.failAt.position) throw this.failAt.error;
      this.yielded += 1;
      yield entry;
    }
  }
}

const positions = (entries: readonly LogEntry[]): number[] => entries.map((e) => e.position);

function logOf(count: number): MemoryEventLog {
  const log = new MemoryEventLog();
  for (let i = 0; i < count; i++) publish(log, 'spec.reader.entry', { i });
  return log;
}

describe('LogBatchReader', () => {
  it('hands out up to max of the entries read so far, then [] at the end of a non-following read', async () => {
    const log = new CountingLog(logOf(5));
    const reader = new LogBatchReader(log, 0, { follow: false, capacity: 10 });
    await settle();
    expect(log.yielded).toBe(5);
    expect(positions(await reader.next(3))).toEqual([0, 1, 2]);
    expect(positions(await reader.next(3))).toEqual([3, 4]);
    expect(await reader.next(3)).toEqual([]);
    expect(await reader.next(3)).toEqual([]);
  });

  it('starts at the given position', async () => {
    const reader = new LogBatchReader(logOf(6), 4, { follow: false, capacity: 10 });
    await settle();
    expect(positions(await reader.next(10))).toEqual([4, 5]);
    expect(await reader.next(10)).toEqual([]);
  });

  it('ends at once on an empty log without following', async () => {
    const reader = new LogBatchReader(new MemoryEventLog(), 0, { follow: false, capacity: 4 });
    expect(await reader.next(4)).toEqual([]);
  });

  it('waits for the first entry, then hands out whatever has arrived without waiting to fill the batch', async () => {
    const memory = new MemoryEventLog();
    const reader = new LogBatchReader(memory, 0, { follow: true, capacity: 100 });
    let first: LogEntry[] | undefined;
    const pending = reader.next(10).then((entries) => (first = entries));
    await settle();
    expect(first).toBeUndefined();
    publish(memory, 'spec.reader.entry', { i: 0 });
    await pending;
    expect(positions(first!)).toEqual([0]);

    for (let i = 1; i <= 3; i++) publish(memory, 'spec.reader.entry', { i });
    await settle();
    expect(positions(await reader.next(10))).toEqual([1, 2, 3]);
    reader.close();
  });

  it('never holds more than its capacity, however far behind the consumer is', async () => {
    const log = new CountingLog(logOf(50));
    const capacity = 4;
    const reader = new LogBatchReader(log, 0, { follow: false, capacity });
    await settle();
    expect(log.yielded).toBe(capacity);

    const taken: number[] = [];
    let mostHeld = 0;
    for (;;) {
      await settle();
      mostHeld = Math.max(mostHeld, log.yielded - taken.length);
      const batch = await reader.next(3);
      if (batch.length === 0) break;
      taken.push(...positions(batch));
    }
    expect(mostHeld).toBe(capacity);
    expect(taken).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(log.yielded).toBe(50);
  });

  it('never holds more than its capacity while following either', async () => {
    const memory = new MemoryEventLog();
    const log = new CountingLog(memory);
    const reader = new LogBatchReader(log, 0, { follow: true, capacity: 3 });
    for (let i = 0; i < 10; i++) publish(memory, 'spec.reader.entry', { i });
    await settle();
    expect(log.yielded).toBe(3);
    expect(positions(await reader.next(2))).toEqual([0, 1]);
    await settle();
    expect(log.yielded - 2).toBeLessThanOrEqual(3);
    expect(positions(await reader.next(10))).toEqual([2, 3, 4]);
    reader.close();
  });

  it('hands out the entries read before a read error, then throws it', async () => {
    const failure = new Error('stream connection lost');
    const log = new CountingLog(logOf(6), { position: 3, error: failure });
    const reader = new LogBatchReader(log, 0, { follow: false, capacity: 10 });
    await settle();
    expect(positions(await reader.next(10))).toEqual([0, 1, 2]);
    await expect(reader.next(10)).rejects.toBe(failure);
  });

  it('hands out entries held before the error even when they come in several batches', async () => {
    const failure = new Error('stream connection lost');
    const reader = new LogBatchReader(new CountingLog(logOf(6), { position: 4, error: failure }), 0, { follow: false, capacity: 10 });
    await settle();
    expect(positions(await reader.next(3))).toEqual([0, 1, 2]);
    expect(positions(await reader.next(3))).toEqual([3]);
    await expect(reader.next(3)).rejects.toBe(failure);
  });

  it('close() ends a following read: a waiting next() resolves [], and the log is read no more', async () => {
    const memory = new MemoryEventLog();
    const log = new CountingLog(memory);
    const reader = new LogBatchReader(log, 0, { follow: true, capacity: 10 });
    publish(memory, 'spec.reader.entry', { i: 0 });
    publish(memory, 'spec.reader.entry', { i: 1 });
    await settle();
    expect(positions(await reader.next(10))).toEqual([0, 1]);
    const waiting = reader.next(10);
    await settle();
    reader.close();
    expect(await waiting).toEqual([]);
    expect(await reader.next(10)).toEqual([]);
    publish(memory, 'spec.reader.entry', { i: 2 });
    await settle();
    expect(log.yielded).toBe(2);
  });

  it('ends a following read when the given signal aborts', async () => {
    const memory = new MemoryEventLog();
    const controller = new AbortController();
    const reader = new LogBatchReader(memory, 0, { follow: true, capacity: 10, signal: controller.signal });
    const waiting = reader.next(10);
    await settle();
    controller.abort();
    expect(await waiting).toEqual([]);
  });

  it('does not report a read error caused by closing it', async () => {
    const memory = new MemoryEventLog();
    const failing: EventLog = {
      head: () => memory.head(),
      // A transport whose read throws when aborted rather than returning.
      async *read(from, options) {
        await new Promise<void>((resolve) => options?.signal?.addEventListener('abort', () => resolve()));
        if (options?.signal?.aborted) throw new Error('aborted read');
        yield* memory.read(from, options);
      },
    };
    const reader = new LogBatchReader(failing, 0, { follow: true, capacity: 10 });
    const waiting = reader.next(10);
    reader.close();
    expect(await waiting).toEqual([]);
    await settle();
    expect(await reader.next(10)).toEqual([]);
  });
});

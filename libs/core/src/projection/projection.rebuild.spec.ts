import type { Envelope } from '../envelope/envelope.js';
import { NonRetryableError } from '../errors/non-retryable.error.js';
import { MemoryEventLog } from '../memory/memory.event-log.js';
import { ProjectionRebuildAbortedError, ProjectionRebuildRunningError } from './projection-rebuild.error.js';
import { ProjectionRebuild, type ProjectionRebuildOptions } from './projection.rebuild.js';
import { ProjectionRunner } from './projection.runner.js';
import type { Checkpoint } from './projection.store.js';
import type { RebuildProgress } from './rebuild-progress.js';
import {
  expectedItems,
  itemsProjection,
  publish,
  RecordingLogger,
  TestProjectionStore,
  type ItemsProjectionOptions,
  type TestTx,
} from './projection-test-store.spec-helper.js';

const backoff = { initialMs: 1, maxMs: 5 };

/** Adds, removals, other services' events, and one event no handler can read (skipped by every copy). */
function publishHistory(log: MemoryEventLog, count: number, start = 0): Envelope[] {
  const sent: Envelope[] = [];
  for (let i = start; i < start + count; i++) {
    if (i % 7 === 3) publish(log, 'spec.other.happened', { i });
    else if (i % 5 === 4) sent.push(publish(log, 'spec.item.removed', { item: `item-${i - 2}` }));
    else if (i === 11) publish(log, 'spec.item.added', { item: 'from-the-future', title: 'v9' }, { version: 9, id: 'future' });
    else sent.push(publish(log, 'spec.item.added', { item: `item-${i}`, title: `title ${i}` }));
  }
  return sent;
}

function publishItems(log: MemoryEventLog, count: number, start: number): Envelope[] {
  return Array.from({ length: count }, (_, k) =>
    publish(log, 'spec.item.added', { item: `late-${start + k}`, title: `late ${start + k}` }),
  );
}

const ids = (envelopes: readonly Envelope[]): string[] => envelopes.map((e) => e.id);

const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

function setup(projection: ItemsProjectionOptions = {}) {
  const log = new MemoryEventLog();
  const store = new TestProjectionStore('items');
  const logger = new RecordingLogger();
  const { definition, calls } = itemsProjection({ batch: true, ...projection });
  const liveRunner = new ProjectionRunner(definition, store, log, 'live', { follow: true, batchSize: 5, logger, backoff });
  /** Starts the live runner following the log; the test stops it. */
  const startLive = (): void => {
    const controller = new AbortController();
    const running = liveRunner.run(controller.signal);
    stops.push(() => {
      controller.abort();
      return running;
    });
  };
  const rebuild = (options: Partial<ProjectionRebuildOptions> = {}): ProjectionRebuild<TestTx> =>
    new ProjectionRebuild(definition, store, log, { batchSize: 7, logger, progressEveryMs: 0, ...options });
  const live = () => store.snapshot('live')!;
  return { log, store, logger, calls, liveRunner, startLive, rebuild, live };
}

describe('ProjectionRebuild', () => {
  it('builds a copy equal to the live one from the whole log and swaps it live', async () => {
    const { log, store, logger, calls, liveRunner, startLive, rebuild, live } = setup();
    const sent = publishHistory(log, 40);
    startLive();
    await liveRunner.reached(40);
    const before = live();
    expect(before.skipped).toEqual([expect.objectContaining({ position: 11, code: 'TIDINGS_UNKNOWN_EVENT_TYPE' })]);

    const result = await rebuild().run();

    expect(result).toMatchObject({ projection: 'items', position: 40, resumedFrom: 0, entries: 40 });
    expect(result.seconds).toBeGreaterThanOrEqual(0);
    const after = live();
    expect(after.copyId).not.toBe(before.copyId);
    expect(after.position).toBe(40);
    expect(after.rows).toEqual(before.rows);
    expect(after.rows).toEqual(expectedItems(sent));
    expect(after.effects).toEqual(before.effects);
    expect(after.skipped).toEqual(before.skipped);
    expect(store.snapshot('rebuild')).toBeUndefined();
    expect(store.snapshot('retired')).toBeUndefined();
    expect(store.swaps).toBe(1);
    expect(await store.status()).toEqual({
      live: expect.objectContaining({ copyId: after.copyId, position: 40, skipped: 1 }),
      rebuildRunning: false,
    });
    expect(calls.created).toEqual(['live', 'rebuild']);
    expect(logger.count('log', 'Projection items: rebuilt and live at position 40')).toBe(1);

    // The live runner's copy was swapped: it rereads from the new copy's checkpoint and applies nothing twice.
    sent.push(...publishItems(log, 3, 40));
    await liveRunner.reached(43);
    expect(liveRunner.checkpoint).toEqual({ copyId: after.copyId, position: 43 });
    expect(live().effects).toEqual(ids(sent));
    expect(live().rows).toEqual(expectedItems(sent));
    expect(logger.count('log', 'Projection items (live copy) moved under this runner')).toBe(1);
  });

  it('reports progress: replaying with increasing positions, then swapping, then done', async () => {
    const { log, startLive, liveRunner, rebuild } = setup();
    publishHistory(log, 30);
    startLive();
    await liveRunner.reached(30);
    const progress: RebuildProgress[] = [];

    await rebuild({ batchSize: 4, onProgress: (p) => progress.push(p) }).run();

    const phases = progress.map((p) => p.phase).filter((phase, i, all) => phase !== all[i - 1]);
    expect(phases).toEqual(['replaying', 'swapping', 'done']);
    expect(progress[0]).toMatchObject({
      projection: 'items',
      phase: 'replaying',
      resumedFrom: 0,
      position: 0,
      head: 30,
      etaSeconds: undefined,
    });
    expect(progress.filter((p) => p.phase === 'replaying').length).toBeGreaterThan(2);
    expect(progress.at(-1)).toMatchObject({ phase: 'done', position: 30, head: 30 });
    for (const [i, p] of progress.entries()) {
      expect(p.resumedFrom).toBe(0);
      expect(p.head).toBeGreaterThanOrEqual(p.position);
      expect(p.eventsPerSecond).toBeGreaterThanOrEqual(0);
      if (i > 0) expect(p.position).toBeGreaterThanOrEqual(progress[i - 1]!.position);
    }
  });

  it('reports only at phase changes within progressEveryMs', async () => {
    const { log, rebuild } = setup();
    publishHistory(log, 30);
    const progress: RebuildProgress[] = [];

    await rebuild({ batchSize: 4, progressEveryMs: 3_600_000, onProgress: (p) => progress.push(p) }).run();

    expect(progress.map((p) => [p.phase, p.position])).toEqual([
      ['replaying', 0],
      ['swapping', 30],
      ['done', 30],
    ]);
  });

  it('puts the rebuilt copy live when there is no live copy yet', async () => {
    const { log, store, rebuild, live } = setup();
    const sent = publishHistory(log, 20);

    const result = await rebuild().run();

    expect(result.position).toBe(20);
    expect(live().rows).toEqual(expectedItems(sent));
    expect(live().effects).toEqual(ids(sent));
    expect(store.snapshot('rebuild')).toBeUndefined();
    expect(store.commits.filter((c) => c.inSwap)).toEqual([]);
  });

  it('applies in the swap the entries the live copy applied beyond the rebuild checkpoint', async () => {
    const { log, store, liveRunner, startLive, rebuild, live } = setup();
    const sent = publishHistory(log, 30);
    startLive();
    await liveRunner.reached(30);
    store.beforeSwap = async () => {
      store.beforeSwap = undefined;
      sent.push(...publishItems(log, 4, 30));
      await liveRunner.reached(34);
    };

    const result = await rebuild().run();

    expect(result.position).toBe(34);
    expect(store.commits.filter((c) => c.inSwap)).toEqual([{ copy: 'rebuild', from: 30, to: 34, applied: 4, skipped: 0, inSwap: true }]);
    expect(live().position).toBe(34);
    expect(live().rows).toEqual(expectedItems(sent));
    expect(live().effects).toEqual(ids(sent));

    sent.push(...publishItems(log, 2, 34));
    await liveRunner.reached(36);
    expect(live().effects).toEqual(ids(sent));
  });

  // Inside the swap's transaction a failed commit is not undone: committing again there (the applier's fallback to
  // one entry per transaction, or its skipping of an event) would find the events recorded as applied and lose them.
  it.each([
    ['a batch that fails', { onBatch: () => new Error('statement timeout') }],
    ['an event whose handler throws a NonRetryableError', { batch: false, onEvent: () => new NonRetryableError('parent row not found') }],
  ] as const)('fails the swap on %s in its catch-up, replays, and the copy that goes live misses nothing', async (_, failure) => {
    let swapping = false;
    let failed: Error | undefined;
    const failOnce = (tx: TestTx, error: Error): void => {
      if (!swapping || failed || tx.copy !== 'rebuild') return;
      failed = error;
      throw error;
    };
    const { log, store, logger, liveRunner, startLive, rebuild, live } = setup({
      ...('batch' in failure && { batch: failure.batch }),
      onBatch: (_events, context) => 'onBatch' in failure && failOnce(context.tx, failure.onBatch()),
      onEvent: (_envelope, context) => 'onEvent' in failure && failOnce(context.tx, failure.onEvent()),
    });
    const sent = publishHistory(log, 30);
    startLive();
    await liveRunner.reached(30);
    store.beforeSwap = async () => {
      store.beforeSwap = undefined;
      swapping = true;
      sent.push(...publishItems(log, 4, 30));
      await liveRunner.reached(34);
    };

    const result = await rebuild().run();

    expect(failed).toBeDefined();
    expect(result.position).toBe(34);
    expect(live().effects).toEqual(ids(sent));
    expect(live().rows).toEqual(expectedItems(sent));
    expect(live().skipped).toEqual([expect.objectContaining({ position: 11 })]);
    expect(logger.count('warn', `Projection items: the swap failed (${failed!.name}: ${failed!.message}); catching up again`)).toBe(1);
    expect(store.swaps).toBe(1);
    expect(store.commits.filter((c) => c.inSwap)).toEqual([]);
  });

  it('tries a failed swap again after catching up', async () => {
    const { log, store, logger, liveRunner, startLive, rebuild, live } = setup();
    const sent = publishHistory(log, 20);
    startLive();
    await liveRunner.reached(20);
    store.failNextSwaps(1, new Error('could not obtain lock'));

    const result = await rebuild().run();

    expect(result.position).toBe(20);
    expect(logger.count('warn', 'the swap failed (Error: could not obtain lock); catching up again')).toBe(1);
    expect(store.swaps).toBe(1);
    expect(live().effects).toEqual(ids(sent));
  });

  it('replays again instead of swapping while the live copy is more than a batch ahead', async () => {
    const { log, store, liveRunner, startLive, rebuild, live } = setup();
    const sent = publishHistory(log, 20);
    startLive();
    await liveRunner.reached(20);
    store.beforeCommit = async (copy) => {
      if (copy !== 'rebuild') return;
      store.beforeCommit = undefined;
      // While the rebuild replays up to the head it started at (20), the live copy moves 10 past it.
      sent.push(...publishItems(log, 10, 20));
      await liveRunner.reached(30);
    };
    const progress: RebuildProgress[] = [];

    const result = await rebuild({ batchSize: 3, onProgress: (p) => progress.push(p) }).run();

    expect(result.position).toBe(30);
    expect(progress.find((p) => p.phase === 'swapping')).toMatchObject({ position: 30, head: 30 });
    expect(progress.some((p) => p.phase === 'replaying' && p.position === 20 && p.head === 20)).toBe(true);
    expect(store.commits.filter((c) => c.inSwap)).toEqual([]);
    expect(live().effects).toEqual(ids(sent));
  });

  it('rejects an aborted rebuild with ProjectionRebuildAbortedError; running it again resumes from its checkpoint and ends equal', async () => {
    const { log, store, calls, liveRunner, startLive, rebuild, live } = setup();
    const sent = publishHistory(log, 60);
    startLive();
    await liveRunner.reached(60);
    const before = live();
    const controller = new AbortController();

    const aborted = rebuild({
      batchSize: 5,
      onProgress: (p) => {
        if (p.phase === 'replaying' && p.position >= 15) controller.abort();
      },
    }).run(controller.signal);

    const error = await aborted.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProjectionRebuildAbortedError);
    const stoppedAt = store.snapshot('rebuild')!.position;
    expect(stoppedAt).toBeGreaterThanOrEqual(15);
    expect(stoppedAt).toBeLessThan(60);
    expect(error).toMatchObject({ code: 'TIDINGS_PROJECTION_REBUILD_ABORTED', context: { projection: 'items', position: stoppedAt } });
    expect(live().copyId).toBe(before.copyId);
    expect(store.swaps).toBe(0);
    expect((await store.status()).rebuildRunning).toBe(false);

    const progress: RebuildProgress[] = [];
    const result = await rebuild({ batchSize: 5, onProgress: (p) => progress.push(p) }).run();

    expect(result).toMatchObject({ position: 60, resumedFrom: stoppedAt, entries: 60 - stoppedAt });
    expect(progress[0]).toMatchObject({ phase: 'replaying', resumedFrom: stoppedAt, position: stoppedAt });
    expect(progress.every((p) => p.resumedFrom === stoppedAt)).toBe(true);
    expect(live().copyId).not.toBe(before.copyId);
    expect(live().rows).toEqual(before.rows);
    expect(live().effects).toEqual(before.effects);
    expect(live().effects).toEqual(ids(sent));
    expect(calls.created).toEqual(['live', 'rebuild']);
  });

  it('rejects at once, as aborted at its checkpoint, when the signal has already aborted', async () => {
    const { log, store, rebuild } = setup();
    publishHistory(log, 10);
    const controller = new AbortController();
    controller.abort();

    await expect(rebuild().run(controller.signal)).rejects.toMatchObject({
      code: 'TIDINGS_PROJECTION_REBUILD_ABORTED',
      context: { position: 0 },
    });
    expect(store.snapshot('rebuild')?.position).toBe(0);
    expect((await store.status()).rebuildRunning).toBe(false);
  });

  it('rejects with ProjectionRebuildRunningError while the lock is held, changing nothing', async () => {
    const { log, store, rebuild, live } = setup();
    const sent = publishHistory(log, 10);
    const release = await store.lockRebuild();

    await expect(rebuild().run()).rejects.toBeInstanceOf(ProjectionRebuildRunningError);
    await expect(rebuild().run()).rejects.toMatchObject({ code: 'TIDINGS_PROJECTION_REBUILD_RUNNING', context: { projection: 'items' } });
    expect(store.snapshot('rebuild')).toBeUndefined();
    expect(store.snapshot('live')).toBeUndefined();

    await release();
    await rebuild().run();
    expect(live().effects).toEqual(ids(sent));
  });

  it('lets only one of two concurrent rebuilds run', async () => {
    const { log, store, rebuild, live } = setup();
    const sent = publishHistory(log, 10);

    const [first, second] = await Promise.allSettled([rebuild().run(), rebuild().run()]);

    expect(first).toMatchObject({ status: 'fulfilled', value: { position: 10 } });
    expect(second).toMatchObject({ status: 'rejected', reason: expect.any(ProjectionRebuildRunningError) });
    expect(store.swaps).toBe(1);
    expect(live().effects).toEqual(ids(sent));
  });

  it('drops a copy an earlier swap retired before rebuilding', async () => {
    const { log, store, rebuild } = setup();
    publishHistory(log, 5);
    await rebuild().run();
    const dropRetired = store.dropRetired.bind(store);
    let drops = 0;
    store.dropRetired = () => {
      drops += 1;
      return dropRetired();
    };

    const result = await rebuild().run();

    expect(drops).toBe(2);
    expect(result).toMatchObject({ position: 5, resumedFrom: 0, entries: 5 });
    expect(store.snapshot('retired')).toBeUndefined();
  });

  it('releases the lock when it fails', async () => {
    const { log, store, rebuild } = setup();
    publishHistory(log, 5);
    store.open = (): Promise<Checkpoint> => Promise.reject(new Error('permission denied for schema'));

    await expect(rebuild().run()).rejects.toThrow('permission denied for schema');
    expect((await store.status()).rebuildRunning).toBe(false);
  });
});

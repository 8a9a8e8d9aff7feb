import type { Envelope } from '../envelope/envelope.js';
import { NonRetryableError } from '../errors/non-retryable.error.js';
import { MemoryEventLog } from '../memory/memory.event-log.js';
import { ErrorClassifier } from '../retry/error.classifier.js';
import type { LogEntry } from '../transport/event-log.js';
import { BatchApplier } from './batch.applier.js';
import type { Checkpoint, ProjectionCommit } from './projection.store.js';
import { ProjectionRunner, type ProjectionRunnerOptions } from './projection.runner.js';
import {
  expectedItems,
  itemsProjection,
  publish,
  RecordingLogger,
  settle,
  TestProjectionStore,
  type CommitRecord,
  type ItemsProjectionOptions,
  type TestTx,
} from './projection-test-store.spec-helper.js';

const backoff = { initialMs: 1, maxMs: 5 };

function publishItems(log: MemoryEventLog, count: number, start = 0): Envelope[] {
  return Array.from({ length: count }, (_, k) =>
    publish(log, 'spec.item.added', { item: `item-${start + k}`, title: `title ${start + k}` }),
  );
}

const ids = (envelopes: readonly Envelope[]): string[] => envelopes.map((e) => e.id);

/** A log, a store and an items projection, with a runner factory. */
function setup(projection: ItemsProjectionOptions = {}) {
  const log = new MemoryEventLog();
  const store = new TestProjectionStore('items');
  const logger = new RecordingLogger();
  const { definition, calls } = itemsProjection(projection);
  const runner = (options: Partial<ProjectionRunnerOptions> = {}): ProjectionRunner<TestTx> =>
    new ProjectionRunner(definition, store, log, 'live', { follow: false, batchSize: 10, logger, backoff, ...options });
  const live = () => store.snapshot('live')!;
  return { log, store, logger, definition, calls, runner, live };
}

const run = (runner: ProjectionRunner<TestTx>, signal = new AbortController().signal) => runner.run(signal);

async function entriesOf(log: MemoryEventLog, from = 0): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  for await (const entry of log.read(from)) entries.push(entry);
  return entries;
}

/** Applies the whole log with a {@link BatchApplier} in batches of exactly `batchSize` (the runner cuts batches by what has arrived). */
async function applyAll(s: ReturnType<typeof setup>, batchSize = Infinity): Promise<Checkpoint | undefined> {
  let checkpoint: Checkpoint | undefined = await s.store.open('live', s.definition.createReadModel);
  const entries = await entriesOf(s.log, checkpoint.position);
  const applier = new BatchApplier(s.definition, 'live', s.logger);
  for (let i = 0; i < entries.length && checkpoint; i += batchSize) {
    checkpoint = await applier.apply(checkpoint, entries.slice(i, i + batchSize), (c) => s.store.commit('live', c));
  }
  return checkpoint;
}

/** The commits follow one another from 0 to `end`, none covering more than `batchSize` entries. */
function expectContiguous(commits: readonly CommitRecord[], end: number, batchSize: number): void {
  let position = 0;
  for (const commit of commits) {
    expect(commit.from).toBe(position);
    expect(commit.to - commit.from).toBeGreaterThan(0);
    expect(commit.to - commit.from).toBeLessThanOrEqual(batchSize);
    position = commit.to;
  }
  expect(position).toBe(end);
}

describe('ProjectionRunner and BatchApplier', () => {
  describe('applying batches', () => {
    it('applies a batch of several events through applyBatch, in one commit with the checkpoint', async () => {
      const s = setup({ batch: true });
      const sent = publishItems(s.log, 3);
      publish(s.log, 'spec.other.happened', {});
      sent.push(...publishItems(s.log, 2, 3));

      const checkpoint = await applyAll(s);

      expect(checkpoint).toEqual({ copyId: s.live().copyId, position: 6 });
      expect(s.calls.batches).toEqual([[0, 1, 2, 4, 5]]);
      expect(s.calls.handled).toEqual([]);
      expect(s.store.commits).toEqual([{ copy: 'live', from: 0, to: 6, applied: 5, skipped: 0, inSwap: false }]);
      expect(s.live().rows).toEqual(expectedItems(sent));
      expect(s.live().effects).toEqual(ids(sent));
      expect(s.calls.created).toEqual(['live']);
    });

    it('applies the events through the per-event handlers when the definition has no applyBatch', async () => {
      const s = setup();
      const sent = publishItems(s.log, 4);

      await applyAll(s);

      expect(s.calls.handled).toEqual([0, 1, 2, 3]);
      expect(s.store.commits).toEqual([{ copy: 'live', from: 0, to: 4, applied: 4, skipped: 0, inSwap: false }]);
      expect(s.live().effects).toEqual(ids(sent));
    });

    it('uses the handlers, not applyBatch, for a batch of one event', async () => {
      const s = setup({ batch: true });
      const sent = publishItems(s.log, 3);

      await applyAll(s, 1);

      expect(s.calls.batches).toEqual([]);
      expect(s.calls.handled).toEqual([0, 1, 2]);
      expect(s.live().effects).toEqual(ids(sent));
    });

    it('when applyBatch throws, applies the same entries one per transaction through the handlers', async () => {
      const s = setup({
        batch: true,
        onBatch: () => {
          throw new Error('multi-row insert failed');
        },
      });
      const sent = publishItems(s.log, 2);
      publish(s.log, 'spec.other.happened', {});
      sent.push(...publishItems(s.log, 2, 2));

      const checkpoint = await applyAll(s);

      expect(checkpoint?.position).toBe(5);
      expect(s.calls.batches).toEqual([[0, 1, 3, 4]]);
      expect(s.calls.handled).toEqual([0, 1, 3, 4]);
      expect(s.store.commits.map((c) => [c.from, c.to, c.applied])).toEqual([
        [0, 1, 1],
        [1, 2, 1],
        [2, 3, 0],
        [3, 4, 1],
        [4, 5, 1],
      ]);
      // The batch's first write was rolled back with it: every event is in the read model once.
      expect(s.live().effects).toEqual(ids(sent));
      expect(s.live().rows).toEqual(expectedItems(sent));
      expect(
        s.logger.count(
          'warn',
          'a batch of 5 entries from position 0 failed (Error: multi-row insert failed); applying it one entry at a time',
        ),
      ).toBe(1);
    });

    it('skips and records an entry whose handler throws a NonRetryableError; the others are applied and the checkpoint passes all', async () => {
      const fail = (envelope: Envelope): void => {
        if ((envelope.data as { item: string }).item === 'item-2') throw new NonRetryableError('item 2 refers to nothing');
      };
      const s = setup({ batch: true, onEvent: fail, onBatch: (events) => events.forEach((e) => fail(e.envelope)) });
      const sent = publishItems(s.log, 5);

      const checkpoint = await applyAll(s);

      expect(checkpoint?.position).toBe(5);
      expect(s.store.commits.map((c) => [c.from, c.to, c.applied, c.skipped])).toEqual([
        [0, 1, 1, 0],
        [1, 2, 1, 0],
        [2, 3, 0, 1],
        [3, 4, 1, 0],
        [4, 5, 1, 0],
      ]);
      const applied = sent.filter((_, i) => i !== 2);
      expect(s.live().effects).toEqual(ids(applied));
      expect(s.live().rows).toEqual(expectedItems(applied));
      expect(s.live().skipped).toEqual([
        {
          position: 2,
          eventId: sent[2]!.id,
          type: 'spec.item.added',
          code: 'TIDINGS_NON_RETRYABLE',
          reason: 'NonRetryableError: item 2 refers to nothing',
        },
      ]);
      expect(await s.store.skipped('live', 10)).toEqual(s.live().skipped);
      expect((await s.store.status()).live).toMatchObject({ position: 5, skipped: 1 });
      expect(s.logger.count('error', `skipping spec.item.added ${sent[2]!.id} at position 2`)).toBe(1);
    });

    it('the runner does the same: skips the failing event, applies the others, passes them all', async () => {
      const s = setup({
        onEvent: (envelope) => {
          if ((envelope.data as { item: string }).item === 'item-7') throw new NonRetryableError('bad item');
        },
      });
      const sent = publishItems(s.log, 12);

      const checkpoint = await run(s.runner({ batchSize: 4 }));

      expect(checkpoint?.position).toBe(12);
      expect(s.live().effects).toEqual(ids(sent.filter((_, i) => i !== 7)));
      expect(s.live().skipped).toEqual([expect.objectContaining({ position: 7, eventId: sent[7]!.id, code: 'TIDINGS_NON_RETRYABLE' })]);
      expectContiguous(s.store.commits, 12, 4);
    });

    it('skips a failing event in a batch holding no other event, in one commit with the entries around it', async () => {
      const s = setup({
        onEvent: () => {
          throw new NonRetryableError('never applies');
        },
      });
      publish(s.log, 'spec.other.happened', {});
      const [bad] = publishItems(s.log, 1);
      publish(s.log, 'spec.other.happened', {});

      await applyAll(s);

      expect(s.store.commits).toEqual([{ copy: 'live', from: 0, to: 3, applied: 0, skipped: 1, inSwap: false }]);
      expect(s.live().skipped).toEqual([expect.objectContaining({ position: 1, eventId: bad!.id, code: 'TIDINGS_NON_RETRYABLE' })]);
      expect(s.live().effects).toEqual([]);
    });

    it("skips errors the projection's classifier sends to skipping, as TIDINGS_HANDLER_FAILED", async () => {
      class MissingParent extends Error {}
      const s = setup({
        classifier: new ErrorClassifier({ deadLetterOn: [MissingParent] }),
        onEvent: (envelope) => {
          if ((envelope.data as { item: string }).item === 'item-1') throw new MissingParent('no parent');
        },
      });
      const sent = publishItems(s.log, 3);

      await run(s.runner());

      expect(s.live().skipped).toEqual([
        expect.objectContaining({ position: 1, code: 'TIDINGS_HANDLER_FAILED', reason: 'Error: no parent' }),
      ]);
      expect(s.live().effects).toEqual([sent[0]!.id, sent[2]!.id]);
    });

    it('records entries that cannot be decoded or validated as skipped, in the commit of their batch', async () => {
      const s = setup({ batch: true });
      const sent = publishItems(s.log, 2);
      publish(s.log, 'spec.item.added', { item: 'item-x', title: 'newer' }, { version: 2, id: 'too-new' });
      sent.push(...publishItems(s.log, 2, 2));

      await applyAll(s);

      expect(s.store.commits).toEqual([{ copy: 'live', from: 0, to: 5, applied: 4, skipped: 1, inSwap: false }]);
      expect(s.live().skipped).toEqual([expect.objectContaining({ position: 2, eventId: 'too-new', code: 'TIDINGS_UNKNOWN_EVENT_TYPE' })]);
      expect(s.live().effects).toEqual(ids(sent));
    });

    it('applies an event published twice (same id) once', async () => {
      const s = setup({ batch: true });
      const [first] = publishItems(s.log, 1);
      publish(s.log, 'spec.item.added', first!.data, { id: first!.id });
      const rest = publishItems(s.log, 2, 1);
      publish(s.log, 'spec.item.added', rest[1]!.data, { id: rest[1]!.id });

      const checkpoint = await run(s.runner({ batchSize: 2 }));

      expect(checkpoint?.position).toBe(5);
      expect(s.live().effects).toEqual([first!.id, ...ids(rest)]);
    });

    it('the runner hands applyBatch what it has read ahead, up to batchSize, while a commit is in progress', async () => {
      const s = setup({ batch: true });
      const sent = publishItems(s.log, 25);
      let held = false;
      s.store.beforeCommit = async () => {
        if (held) return;
        held = true;
        // The first batch is whatever had arrived (one entry); while it commits, the reader reads ahead.
        await settle();
      };

      await run(s.runner({ batchSize: 10 }));

      // While the first batch committed, 20 entries (its capacity) were read ahead: the next batch is a full one.
      expect(s.store.commits.slice(0, 2).map((c) => [c.from, c.to])).toEqual([
        [0, 1],
        [1, 11],
      ]);
      expect(s.calls.batches[0]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expectContiguous(s.store.commits, 25, 10);
      expect(s.live().effects).toEqual(ids(sent));
    });

    it('commits contiguous batches of at most batchSize entries covering the whole log', async () => {
      const s = setup({ batch: true });
      const sent = publishItems(s.log, 57);

      await run(s.runner({ batchSize: 8 }));

      expectContiguous(s.store.commits, 57, 8);
      expect(s.live().effects).toEqual(ids(sent));
    });
  });

  describe('failures', () => {
    it('retries a transient handler failure from the checkpoint after a backoff, then applies every event exactly once', async () => {
      let failures = 2;
      const { log, store, logger, calls, runner, live } = setup({
        onEvent: (envelope) => {
          if ((envelope.data as { item: string }).item === 'item-5' && failures-- > 0) throw new Error('deadlock detected');
        },
      });
      const sent = publishItems(log, 10);

      const checkpoint = await run(runner({ batchSize: 1 }));

      expect(checkpoint?.position).toBe(10);
      expect(live().effects).toEqual(ids(sent));
      expect(live().rows).toEqual(expectedItems(sent));
      expect(live().skipped).toEqual([]);
      expect(calls.handled).toEqual([0, 1, 2, 3, 4, 5, 5, 5, 6, 7, 8, 9]);
      expectContiguous(store.commits, 10, 1);
      expect(logger.count('warn', 'failed at position 5: Error: deadlock detected; trying again from its checkpoint in')).toBe(2);
    });

    it('retries a transient failure inside a batch from the checkpoint its fallback reached, applying every event once', async () => {
      let failures = 3;
      const { log, store, logger, runner, live } = setup({
        batch: true,
        onBatch: (events) => {
          if (events.some((e) => (e.envelope.data as { item: string }).item === 'item-13')) throw new Error('batch statement failed');
        },
        onEvent: (envelope) => {
          if ((envelope.data as { item: string }).item === 'item-13' && failures-- > 0) throw new Error('lock timeout');
        },
      });
      const sent = publishItems(log, 30);

      const checkpoint = await run(runner({ batchSize: 6 }));

      expect(checkpoint?.position).toBe(30);
      expect(live().effects).toEqual(ids(sent));
      expect(live().applied).toEqual(ids(sent));
      expectContiguous(store.commits, 30, 6);
      expect(logger.count('warn', 'Error: lock timeout; trying again from its checkpoint')).toBeGreaterThan(0);
    });

    it('rolls back a commit that fails in the store and retries it; nothing is applied twice, nothing is lost', async () => {
      const { log, store, logger, calls, runner, live } = setup({ batch: true });
      const sent = publishItems(log, 20);
      store.failNextCommits(3, new Error('connection reset'));

      const checkpoint = await run(runner({ batchSize: 5 }));

      expect(checkpoint?.position).toBe(20);
      expect(calls.batches.length + calls.handled.length).toBeGreaterThan(4);
      expect(live().effects).toEqual(ids(sent));
      expect(live().applied).toEqual(ids(sent));
      expect(live().rows).toEqual(expectedItems(sent));
      expect(logger.count('warn', 'Error: connection reset; trying again from its checkpoint')).toBeGreaterThan(0);
    });

    it('retries a failure to open the copy', async () => {
      const { log, store, runner, live } = setup();
      const sent = publishItems(log, 3);
      let opens = 0;
      const open = store.open.bind(store);
      store.open = (copy, create) => {
        opens += 1;
        if (opens === 1) return Promise.reject(new Error('database starting up'));
        return open(copy, create);
      };

      const checkpoint = await run(runner());

      expect(checkpoint?.position).toBe(3);
      expect(opens).toBe(2);
      expect(live().effects).toEqual(ids(sent));
    });

    it('stops retrying when its signal aborts, and resolves with the checkpoint', async () => {
      const { log, logger, runner, live } = setup({
        onEvent: () => {
          throw new Error('database down');
        },
      });
      publishItems(log, 3);
      const controller = new AbortController();
      const warn = logger.warn.bind(logger);
      logger.warn = (message) => {
        warn(message);
        if (logger.count('warn', 'database down') === 3) controller.abort();
      };

      const running = run(runner({ backoff: { initialMs: 1, maxMs: 1 } }), controller.signal);

      expect(await running).toEqual({ copyId: live().copyId, position: 0 });
      expect(logger.count('warn', 'database down')).toBe(3);
      expect(live().effects).toEqual([]);
    });
  });

  describe('afterCommit', () => {
    it('runs callbacks only after a successful commit, never for a rolled-back one', async () => {
      const notified: string[] = [];
      const committedWhenNotified: boolean[] = [];
      const { log, store, calls, runner, live } = setup({
        onEvent: (envelope, context) =>
          context.afterCommit(() => {
            notified.push(envelope.id);
            committedWhenNotified.push(live().applied.includes(envelope.id));
          }),
      });
      const sent = publishItems(log, 4);
      store.failNextCommits(2, new Error('serialization failure'));

      await run(runner());

      // Handlers ran (and registered callbacks) in the two transactions that rolled back too; those never ran.
      expect(calls.handled.length).toBeGreaterThanOrEqual(6);
      expect(notified).toEqual(ids(sent));
      expect(committedWhenNotified).toEqual([true, true, true, true]);
    });

    it("runs a batch's callbacks once it commits, and drops those of a rolled-back batch", async () => {
      const notified: number[][] = [];
      const s = setup({
        batch: true,
        onBatch: (events, context) => context.afterCommit(() => notified.push(events.map((e) => e.position))),
      });
      publishItems(s.log, 6);
      s.store.failNextCommits(1, new Error('serialization failure'));

      await applyAll(s, 3);

      // The first batch rolled back and was applied one event at a time (no batch callback); the second committed.
      expect(s.calls.batches).toEqual([
        [0, 1, 2],
        [3, 4, 5],
      ]);
      expect(notified).toEqual([[3, 4, 5]]);
    });

    it('runs no callback of a commit refused because the copy moved', async () => {
      const notified: string[] = [];
      const s = setup({ onEvent: (envelope, context) => context.afterCommit(() => notified.push(envelope.id)) });
      publishItems(s.log, 3);
      const from = await s.store.open('live', s.definition.createReadModel);
      const applier = new BatchApplier(s.definition, 'live', s.logger);
      const entries = await entriesOf(s.log);
      // The store refuses after running the batch (as a store checking the checkpoint at the end would).
      const next = await applier.apply(from, entries, async (c) => {
        await c.apply({ copy: 'live', copyId: 'scratch', rows: new Map(), effects: [] }, c.events);
        return false;
      });
      expect(next).toBeUndefined();
      expect(notified).toEqual([]);
    });

    it('logs a failing callback without failing the committed batch', async () => {
      const { log, logger, runner, live } = setup({
        onEvent: (envelope, context) =>
          context.afterCommit(() => {
            if ((envelope.data as { item: string }).item === 'item-1') throw new Error('listener gone');
          }),
      });
      const sent = publishItems(log, 3);

      const checkpoint = await run(runner());

      expect(checkpoint?.position).toBe(3);
      expect(live().effects).toEqual(ids(sent));
      expect(logger.count('error', 'an after-commit callback failed: Error: listener gone')).toBe(1);
    });
  });

  describe('checkpoints', () => {
    it('rereads from the new checkpoint when another runner moved the copy, applying nothing twice', async () => {
      const { log, store, logger, calls, runner, live } = setup();
      const sent = publishItems(log, 12);
      const other = runner({ batchSize: 2 });
      let moved = false;
      store.beforeCommit = async (_copy, commit) => {
        // The first runner's second batch (its first started at 0): the other runner takes the copy to the head first.
        if (moved || commit.from.position === 0) return;
        moved = true;
        await run(other);
      };
      const controller = new AbortController();
      const first = runner({ batchSize: 3, follow: true });
      const running = run(first, controller.signal);

      await first.reached(12);
      expect(other.checkpoint?.position).toBe(12);
      sent.push(...publishItems(log, 5, 12));
      await first.reached(17);
      controller.abort();
      await running;

      expect(moved).toBe(true);
      expect(store.refused).toBe(1);
      expect(logger.count('log', 'moved under this runner; reading on from its checkpoint')).toBe(1);
      expect(first.checkpoint).toEqual({ copyId: live().copyId, position: 17 });
      expect(live().effects).toEqual(ids(sent));
      // The refused commit was checked before its batch ran: every handler ran once.
      expect(calls.handled).toEqual(Array.from({ length: 17 }, (_, i) => i));
    });

    it('follows the log: applies events appended after it started, and reached() resolves as the checkpoint passes', async () => {
      const { log, runner, live } = setup({ batch: true });
      const controller = new AbortController();
      const follower = runner({ follow: true, batchSize: 4 });
      const running = run(follower, controller.signal);
      const sent = publishItems(log, 3);

      await follower.reached(3);
      expect(live().effects).toEqual(ids(sent));

      let reached = false;
      const waiting = follower.reached(6).then(() => (reached = true));
      sent.push(...publishItems(log, 2, 3));
      await follower.reached(5);
      await settle();
      expect(reached).toBe(false);
      sent.push(...publishItems(log, 1, 5));
      await waiting;
      expect(live().position).toBeGreaterThanOrEqual(6);
      await follower.reached(0);

      controller.abort();
      expect(await running).toEqual({ copyId: live().copyId, position: 6 });
      expect(live().effects).toEqual(ids(sent));
    });

    it('resolves reached() at once for a position already passed', async () => {
      const { log, runner } = setup();
      publishItems(log, 2);
      const done = runner();
      await run(done);
      await expect(done.reached(2)).resolves.toBeUndefined();
      await expect(done.reached(1)).resolves.toBeUndefined();
    });

    it('reports each commit to onCommitted with its checkpoint and entry count', async () => {
      const { log, store, runner, live } = setup();
      publish(log, 'spec.other.happened', {});
      publishItems(log, 6);
      const committed: Array<[number, number]> = [];

      await run(runner({ batchSize: 3, onCommitted: (checkpoint, entries) => committed.push([checkpoint.position, entries]) }));

      expect(committed).toEqual(store.commits.map((c) => [c.to, c.to - c.from]));
      expect(committed.reduce((sum, [, entries]) => sum + entries, 0)).toBe(7);
      expect(committed.at(-1)?.[0]).toBe(7);
      expect(live().position).toBe(7);
    });

    it('resumes on an existing checkpoint when restarted: N sent, N applied once, none lost', async () => {
      const { log, store, calls, runner, live } = setup({ batch: true });
      const sent = publishItems(log, 10);
      const controller = new AbortController();
      const stopped = await run(
        runner({
          follow: true,
          batchSize: 3,
          onCommitted: (checkpoint) => {
            if (checkpoint.position >= 6) controller.abort();
          },
        }),
        controller.signal,
      );
      expect(stopped!.position).toBeGreaterThanOrEqual(6);
      expect(stopped!.position).toBeLessThanOrEqual(10);
      sent.push(...publishItems(log, 10, 10));
      const commitsBefore = store.commits.length;

      const restarted = await run(runner({ batchSize: 3 }));

      expect(store.commits[commitsBefore]?.from).toBe(stopped!.position);
      expect(restarted).toEqual({ copyId: stopped!.copyId, position: 20 });
      expect(live().effects).toEqual(ids(sent));
      expect(new Set(live().effects).size).toBe(20);
      expect(calls.created).toEqual(['live']);
    });

    it('returns at once, without applying, when its signal has already aborted', async () => {
      const { log, store, runner } = setup();
      publishItems(log, 3);
      const controller = new AbortController();
      controller.abort();
      expect(await run(runner(), controller.signal)).toBeUndefined();
      expect(store.commits).toEqual([]);
    });
  });

  describe('BatchApplier directly', () => {
    it('returns the checkpoint unchanged, committing nothing, for no entries', async () => {
      const { definition } = itemsProjection();
      let commits = 0;
      const from = { copyId: 'c', position: 4 };
      expect(await new BatchApplier(definition, 'live', new RecordingLogger()).apply(from, [], async () => ++commits > 0)).toBe(from);
      expect(commits).toBe(0);
    });

    it('moves the checkpoint to `to` when given', async () => {
      const log = new MemoryEventLog();
      publishItems(log, 2);
      const { definition } = itemsProjection();
      const commits: ProjectionCommit<TestTx>[] = [];
      const applier = new BatchApplier(definition, 'live', new RecordingLogger());
      const next = await applier.apply(
        { copyId: 'c', position: 0 },
        await entriesOf(log),
        async (c) => {
          commits.push(c);
          return true;
        },
        9,
      );
      expect(next).toEqual({ copyId: 'c', position: 9 });
      expect(commits.map((c) => [c.from.position, c.to, c.events.length])).toEqual([[0, 9, 2]]);
    });

    it('returns undefined when the copy moves during the one-entry-per-transaction fallback', async () => {
      const log = new MemoryEventLog();
      publishItems(log, 3);
      const { definition } = itemsProjection();
      const answers: Array<() => boolean> = [
        () => {
          throw new Error('batch failed');
        },
        () => true,
        () => false,
      ];
      const seen: Array<[number, number]> = [];
      const applier = new BatchApplier(definition, 'live', new RecordingLogger());
      const next = await applier.apply({ copyId: 'c', position: 0 }, await entriesOf(log), async (c) => {
        seen.push([c.from.position, c.to]);
        return answers.shift()!();
      });
      expect(next).toBeUndefined();
      expect(seen).toEqual([
        [0, 3],
        [0, 1],
        [1, 2],
      ]);
    });

    it('propagates a failure of a batch with nothing to skip (no event in it)', async () => {
      const log = new MemoryEventLog();
      publish(log, 'spec.other.happened', {});
      publish(log, 'spec.other.happened', {});
      const { definition } = itemsProjection({ classifier: new ErrorClassifier({ deadLetterOn: [Error] }) });
      const failure = new Error('disk full');
      const applier = new BatchApplier(definition, 'live', new RecordingLogger());
      await expect(applier.apply({ copyId: 'c', position: 0 }, await entriesOf(log), () => Promise.reject(failure))).rejects.toBe(failure);
    });
  });
});

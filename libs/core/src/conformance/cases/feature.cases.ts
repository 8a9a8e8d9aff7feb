import { decodeMessage } from '../../decoding/envelope.codec.js';
import { PublishFailedError } from '../../errors/publish-failed.error.js';
import type { EventLog, LogEntry } from '../../transport/event-log.js';
import { payloads, TEST_TIMEOUT_MS, type SuiteContext } from '../conformance.fixture.js';
import { withDeadline } from '../deadline.js';
import { eventually } from '../eventually.js';
import { Recorder } from '../recorder.js';
import type { DefineTest } from '../test-api.js';

/** Entries of `type` read from `from`: the log may be shared with other tests and services. */
async function entriesOf(log: EventLog, from: number, type: string): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  for await (const entry of log.read(from)) if (entry.message.routingKey === type) entries.push(entry);
  return entries;
}

/** A following read of `log` in the background: `seen` grows with the entries of `type` as they arrive. */
interface FollowingRead {
  readonly seen: LogEntry[];
  /** Aborts the read; resolves once the iteration has returned, rejects unless that took under a second. */
  stop(): Promise<void>;
}

/** Starts `read(from, { follow: true })` on `log`, collecting the entries of `type` until stopped. */
function follow(log: EventLog, from: number, type: string): FollowingRead {
  const controller = new AbortController();
  const seen: LogEntry[] = [];
  const done = (async () => {
    for await (const entry of log.read(from, { follow: true, signal: controller.signal })) {
      if (entry.message.routingKey === type) seen.push(entry);
    }
  })();
  // Observed at once, so a read that fails before stop() is not an unhandled rejection; stop() reports it.
  done.catch(() => undefined);
  return {
    seen,
    stop: () => {
      controller.abort();
      return withDeadline(done, 1000, 'the following read to return after its signal aborted');
    },
  };
}

const idsOf = (entries: readonly LogEntry[]): unknown[] => entries.map((e) => e.message.attributes['id']);

/** What a transport promises beyond the basics, each gated by its {@link TransportFeatures} flag. */
export function featureCases({ api: { it, expect }, name, features, fixture }: SuiteContext): void {
  const itIf = (promised: boolean): DefineTest => (promised ? it : it.skip);

  it(
    'exposes an event log exactly when the features say so',
    async () => {
      const transport = fixture().transport('log-probe');
      expect(transport.eventLog !== undefined).toBe(features.eventLog);
    },
    TEST_TIMEOUT_MS,
  );

  itIf(features.ordering)(
    'ordering: one consumer with concurrency 1 gets events in publish order',
    async () => {
      const fx = fixture();
      const Event = fx.defineEvent('ordered.step');
      const handled = new Recorder('ordered');
      const consumer = fx.transport('ordered');
      await fx.subscribe(consumer, 'ordered', { handlers: [fx.handler(Event, handled.record)], concurrency: 1, prefetch: 10 });
      await consumer.start();
      const publisher = await fx.started('ordered-publisher');

      const ids: string[] = [];
      for (let batch = 0; batch < 5; batch++) ids.push(...(await fx.publish(publisher, Event, payloads(10, batch * 10))));
      await handled.waitFor(ids.length);

      expect(handled.ids()).toEqual(ids);
    },
    TEST_TIMEOUT_MS,
  );

  itIf(features.eventLog)(
    'eventLog: read(from) yields published events in order with increasing positions, from any position',
    async () => {
      const fx = fixture();
      const Event = fx.defineEvent('logged.fact');
      const type = fx.type('logged.fact');
      const publisher = await fx.started('log-publisher');
      const log = publisher.eventLog;
      if (!log) throw new Error(`${name} promises an event log, but transport.eventLog is undefined`);

      const from = await log.head();
      const ids = [...(await fx.publish(publisher, Event, payloads(3))), ...(await fx.publish(publisher, Event, payloads(3, 3)))];
      const entries = await entriesOf(log, from, type);

      expect(entries.map((e) => e.message.attributes['id'])).toEqual(ids);
      expect(entries.map((e) => decodeMessage(e.message).data)).toEqual(payloads(6));
      const positions = entries.map((e) => e.position);
      expect(positions[0]).toBeGreaterThanOrEqual(from);
      positions.slice(1).forEach((position, i) => expect(position).toBeGreaterThan(positions[i] ?? Infinity));
      expect(await log.head()).toBeGreaterThan(positions[positions.length - 1] ?? Infinity);

      const rest = await entriesOf(log, positions[2] ?? from, type);
      expect(rest.map((e) => e.message.attributes['id'])).toEqual(ids.slice(2));
    },
    TEST_TIMEOUT_MS,
  );

  itIf(features.eventLog)(
    'eventLog: read(from, { follow }) yields what was published before and after it started, in order, until aborted',
    async () => {
      const fx = fixture();
      const Event = fx.defineEvent('followed.fact');
      const type = fx.type('followed.fact');
      const publisher = await fx.started('follow-publisher');
      const log = publisher.eventLog;
      if (!log) throw new Error(`${name} promises an event log, but transport.eventLog is undefined`);
      const from = await log.head();
      const before = await fx.publish(publisher, Event, payloads(3));

      const reading = follow(log, from, type);
      try {
        await eventually(() => expect(idsOf(reading.seen)).toEqual(before));
        // The read has caught up with the log and now waits for more.
        const after = [...(await fx.publish(publisher, Event, payloads(2, 3))), await fx.publishOne(publisher, Event, { n: 5 })];
        await eventually(() => expect(idsOf(reading.seen)).toEqual([...before, ...after]));
      } finally {
        await reading.stop();
      }

      expect(reading.seen.map((e) => decodeMessage(e.message).data)).toEqual(payloads(6));
      const positions = reading.seen.map((e) => e.position);
      expect(positions[0]).toBeGreaterThanOrEqual(from);
      positions.slice(1).forEach((position, i) => expect(position).toBeGreaterThan(positions[i] ?? Infinity));
    },
    TEST_TIMEOUT_MS,
  );

  itIf(features.eventLog)(
    'eventLog: aborting a following read while it waits for events ends the iteration within a second',
    async () => {
      const fx = fixture();
      const Event = fx.defineEvent('awaited.fact');
      const type = fx.type('awaited.fact');
      const publisher = await fx.started('abort-publisher');
      const log = publisher.eventLog;
      if (!log) throw new Error(`${name} promises an event log, but transport.eventLog is undefined`);

      const reading = follow(log, await log.head(), type);
      const id = await fx.publishOne(publisher, Event, { n: 0 });
      try {
        // Once the only event is through, the read is certainly waiting.
        await eventually(() => expect(idsOf(reading.seen)).toEqual([id]));
      } finally {
        await reading.stop(); // rejects unless the iteration returned, without throwing, within a second
      }
      expect(idsOf(reading.seen)).toEqual([id]);
    },
    TEST_TIMEOUT_MS,
  );

  itIf(features.eventLog)(
    'eventLog: a following read from beyond the head waits for that position and yields the events published there',
    async () => {
      const fx = fixture();
      const Event = fx.defineEvent('future.fact');
      const type = fx.type('future.fact');
      const publisher = await fx.started('future-publisher');
      const log = publisher.eventLog;
      if (!log) throw new Error(`${name} promises an event log, but transport.eventLog is undefined`);
      const from = (await log.head()) + 3;

      const reading = follow(log, from, type);
      const ids = await fx.publish(publisher, Event, payloads(6));
      try {
        await eventually(() => expect(idsOf(reading.seen).at(-1)).toBe(ids.at(-1)));
      } finally {
        await reading.stop();
      }

      // At most the three published at or after `from` (fewer if others share the log), and never one below it.
      const seen = idsOf(reading.seen);
      expect(seen.length).toBeLessThanOrEqual(3);
      expect(seen).toEqual(ids.slice(ids.length - seen.length));
      reading.seen.forEach((entry) => expect(entry.position).toBeGreaterThanOrEqual(from));
    },
    TEST_TIMEOUT_MS,
  );

  itIf(features.rejectsUnroutable)(
    'rejectsUnroutable: an event no subscription binds is refused as unroutable, and the rest of its batch is delivered',
    async () => {
      const fx = fixture();
      const Event = fx.defineEvent('routable.thing');
      const handled = new Recorder('routable');
      const consumer = fx.transport('routable');
      await fx.subscribe(consumer, 'routable', { handlers: [fx.handler(Event, handled.record)] });
      await consumer.start();
      const publisher = await fx.started('unroutable-publisher');
      const before = fx.envelope(Event, { n: 1 });
      const lost = fx.envelope(fx.type('nobody.listens'), {});
      const after = fx.envelope(Event, { n: 2 });

      const failure = await publisher.publish([before, lost, after]).then(
        () => undefined,
        (error: unknown) => error,
      );

      expect(failure instanceof PublishFailedError).toBe(true);
      expect((failure as PublishFailedError).failures.map((f) => [f.id, f.reason])).toEqual([[lost.id, 'unroutable']]);
      expect((failure as PublishFailedError).accepted).toBe(2);
      await handled.waitFor(2);
      expect(handled.ids().sort()).toEqual([before.id, after.id].sort());
    },
    TEST_TIMEOUT_MS,
  );
}

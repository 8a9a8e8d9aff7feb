import { RetryableError } from '../../errors/retryable.error.js';
import type { EventContext } from '../../pipeline/event-context.js';
import { payloads, TEST_TIMEOUT_MS, type SuiteContext } from '../conformance.fixture.js';
import { withDeadline } from '../deadline.js';
import { Gate } from '../gate.js';
import { DEFAULT_WAIT_MS } from '../latch.js';
import { Recorder } from '../recorder.js';

const sorted = (ids: readonly string[]): string[] => [...ids].sort();

/** Graceful stop and restart. */
export function lifecycleCases({ api: { it, expect }, fixture }: SuiteContext): void {
  it(
    'stop() waits for in-flight handlers and delivers nothing after',
    async () => {
      const fx = fixture();
      const Job = fx.defineEvent('slow.job');
      const Probe = fx.defineEvent('slow.probe');
      const gate = new Gate();
      const started = new Recorder('handlers started');
      const finished = new Recorder('handlers finished');
      const handle = async (data: unknown, context: EventContext): Promise<void> => {
        started.record(data, context);
        await gate.opened;
        finished.record(data, context);
      };
      const consumer = fx.transport('slow');
      await fx.subscribe(consumer, 'slow', { handlers: [fx.handler(Job, handle)], prefetch: 1 });
      await consumer.start();
      const publisher = await fx.started('slow-publisher');
      // Probes fail once, so each crosses a real retry delay (a timer, a TTL queue) before it is handled.
      const probes = new Recorder('probes handled on their retry');
      const probe = (data: unknown, context: EventContext): void => {
        if (context.attempt === 1) throw new RetryableError('probe: come back later');
        probes.record(data, context);
      };
      await fx.subscribe(publisher, 'slow.probes', { handlers: [fx.handler(Probe, probe)] });

      try {
        const first = await fx.publishOne(publisher, Job, { n: 0 });
        await started.waitForId(first);
        let stopped = false;
        const stopping = consumer.stop().then(() => {
          stopped = true;
        });
        stopping.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
        // A stop() that did not wait for the handler would have resolved while the probe waited for its retry.
        await probes.waitForId(await fx.publishOne(publisher, Probe, {}));
        expect(stopped).toBe(false);
        expect(finished.count).toBe(0);

        gate.open();
        await withDeadline(stopping, DEFAULT_WAIT_MS, 'stop() to resolve once the in-flight handler finished');
        expect(started.ids()).toEqual([first]);
        expect(finished.ids()).toEqual([first]);

        const later = await fx.publish(publisher, Job, payloads(5, 1));
        const successor = new Recorder('successor');
        const next = fx.transport('slow');
        await fx.subscribe(next, 'slow', { handlers: [fx.handler(Job, successor.record)] });
        await next.start();
        await successor.waitFor(later.length);

        expect(sorted(successor.ids())).toEqual(sorted(later));
        expect(started.count).toBe(1);
        expect(finished.count).toBe(1);
      } finally {
        gate.open();
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'start again resumes with nothing lost: a new transport, or the same one restarted',
    async () => {
      const fx = fixture();
      const Event = fx.defineEvent('resume.item');
      const before = new Recorder('first consumer');
      const first = fx.transport('resume');
      await fx.subscribe(first, 'resume', { handlers: [fx.handler(Event, before.record)] });
      await first.start();
      const publisher = await fx.started('resume-publisher');
      const early = await fx.publish(publisher, Event, payloads(3));
      await before.waitFor(early.length);
      await first.stop();

      const whileStopped = await fx.publish(publisher, Event, payloads(10, 3));
      const after = new Recorder('second consumer');
      const second = fx.transport('resume');
      await fx.subscribe(second, 'resume', { handlers: [fx.handler(Event, after.record)] });
      await second.start();
      await after.waitFor(whileStopped.length);
      expect(sorted(after.ids())).toEqual(sorted(whileStopped));

      await second.stop();
      const whileRestarting = await fx.publish(publisher, Event, payloads(5, 13));
      await second.start();
      await after.waitFor(whileStopped.length + whileRestarting.length);

      expect(sorted(after.ids())).toEqual(sorted([...whileStopped, ...whileRestarting]));
      expect(sorted(before.ids())).toEqual(sorted(early));
    },
    TEST_TIMEOUT_MS,
  );
}

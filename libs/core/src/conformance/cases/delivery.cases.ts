import { payloads, TEST_TIMEOUT_MS, type SuiteContext } from '../conformance.fixture.js';
import { Recorder } from '../recorder.js';

const sorted = (ids: readonly string[]): string[] => [...ids].sort();

/** Routing, fan-out, competing consumers and publish durability. */
export function deliveryCases({ api: { it, expect }, fixture }: SuiteContext): void {
  it(
    'routes by pattern: `*`, `#`, exact and multi-pattern bindings receive exactly the matching events',
    async () => {
      const fx = fixture();
      const aAdded = fx.type('x.a.added');
      const bAdded = fx.type('x.b.added');
      const aRemoved = fx.type('x.a.removed');
      const deepAdded = fx.type('x.a.b.added');
      const shortAdded = fx.type('x.added');
      const star = new Recorder('x.*.added');
      const hash = new Recorder('x.#');
      const exact = new Recorder('exact x.a.added');
      const several = new Recorder('x.a.*, #.removed, x.added');
      const consumer = await fx.started('routing');
      await fx.subscribe(consumer, 'routing.star', { handlers: [fx.handler([fx.type('x.*.added')], star.record)] });
      await fx.subscribe(consumer, 'routing.hash', { handlers: [fx.handler([fx.type('x.#')], hash.record)] });
      await fx.subscribe(consumer, 'routing.exact', { handlers: [fx.handler([aAdded], exact.record)] });
      const patterns = [fx.type('x.a.*'), fx.type('#.removed'), shortAdded];
      await fx.subscribe(consumer, 'routing.several', { handlers: [fx.handler(patterns, several.record)] });

      const publisher = await fx.started('routing-publisher');
      await publisher.publish([aAdded, bAdded, aRemoved, deepAdded, shortAdded].map((type) => fx.envelope(type, {})));
      // The marker matches all four subscriptions and comes last: once each has it, nothing earlier is still on its way.
      const marker = await fx.publishOne(publisher, aAdded, { marker: true });
      for (const recorder of [star, hash, exact, several]) await recorder.waitForId(marker);

      expect(star.types().sort()).toEqual([aAdded, aAdded, bAdded].sort());
      expect(hash.types().sort()).toEqual([aAdded, aAdded, bAdded, aRemoved, deepAdded, shortAdded].sort());
      expect(exact.types()).toEqual([aAdded, aAdded]);
      // A queue bound by several patterns gets the union, and a message matching two of them once.
      expect(several.types().sort()).toEqual([aAdded, aAdded, aRemoved, shortAdded].sort());
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'fans out: every subscription bound to a type gets each event once (subscribed before or after start)',
    async () => {
      const fx = fixture();
      const Event = fx.defineEvent('fan.out');
      const alpha = new Recorder('alpha');
      const beta = new Recorder('beta');
      const alphaService = fx.transport('alpha');
      await fx.subscribe(alphaService, 'alpha.fan', { handlers: [fx.handler(Event, alpha.record)] });
      await alphaService.start();
      const betaService = await fx.started('beta');
      await fx.subscribe(betaService, 'beta.fan', { handlers: [fx.handler(Event, beta.record)] });

      const publisher = await fx.started('fan-publisher');
      const ids = await fx.publish(publisher, Event, payloads(10));
      const marker = await fx.publishOne(publisher, Event, { marker: true });
      for (const recorder of [alpha, beta]) await recorder.waitForId(marker);

      expect(sorted(alpha.ids())).toEqual(sorted([...ids, marker]));
      expect(sorted(beta.ids())).toEqual(sorted([...ids, marker]));
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'competing consumers split one subscription: each event handled exactly once, by one of them',
    async () => {
      const fx = fixture();
      const Event = fx.defineEvent('work.item');
      const handled = new Recorder('work items');
      for (const worker of ['first', 'second']) {
        const transport = fx.transport('worker');
        await fx.subscribe(transport, 'work', { handlers: [fx.handler(Event, handled.as(worker))] });
        await transport.start();
      }

      const publisher = await fx.started('work-publisher');
      const ids = await fx.publish(publisher, Event, payloads(40));
      await handled.waitFor(40);
      const marker = await fx.publishOne(publisher, Event, { marker: true });
      await handled.waitForId(marker);

      expect(sorted(handled.ids())).toEqual(sorted([...ids, marker]));
      expect(handled.ids('first').length).toBeGreaterThan(0);
      expect(handled.ids('second').length).toBeGreaterThan(0);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'publish resolves only after durable acceptance: events survive the publisher stopping at once',
    async () => {
      const fx = fixture();
      const Event = fx.defineEvent('durable.accepted');
      // Declare the subscription, then leave it without a consumer.
      const early = new Recorder('consumer before publishing');
      const declarer = fx.transport('durable-consumer');
      await fx.subscribe(declarer, 'durable', { handlers: [fx.handler(Event, early.record)] });
      await declarer.start();
      await declarer.stop();

      const publisher = await fx.started('durable-publisher');
      const ids = [...(await fx.publish(publisher, Event, payloads(10))), ...(await fx.publish(publisher, Event, payloads(10, 10)))];
      await publisher.stop();

      const late = new Recorder('consumer after the publisher stopped');
      const consumer = fx.transport('durable-consumer');
      await fx.subscribe(consumer, 'durable', { handlers: [fx.handler(Event, late.record)] });
      await consumer.start();
      await late.waitFor(ids.length);

      expect(sorted(late.ids())).toEqual(sorted(ids));
      expect(early.count).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
}

import { eventually } from '@tidings/core';
import { RABBITMQ_URL } from '../rabbitmq/rabbitmq-conformance.target.js';
import { startNodeProcess } from '../support/node-process.js';
import { isAlive } from '../support/process-probes.js';
import { RabbitMqManagement } from '../support/rabbitmq-management.js';
import { dropSchemas, POSTGRES_URL } from '../typeorm/outbox-database.js';

// `npm run demo` (the built apps/dist/demo) as a newcomer runs it, on free ports and in a namespace of its own: it
// starts the three services, seeds them, prints the addresses, and Ctrl-C (SIGINT) stops everything cleanly.

describe('npm run demo', () => {
  const run = `${process.pid}_${Date.now().toString(36)}`;
  const namespace = `d${run.replace('_', '-')}-`;
  const schemas = { QUESTIONS_SCHEMA: `demo_${run}_q`, FEED_SCHEMA: `demo_${run}_f`, NOTIFICATIONS_SCHEMA: `demo_${run}_n` };

  afterAll(async () => {
    await new RabbitMqManagement().deleteByPrefix(namespace);
    await dropSchemas(Object.values(schemas));
  });

  it('starts the three services, seeds them, prints where to look, and stops them all on Ctrl-C', async () => {
    const demo = startNodeProcess('apps/dist/demo/src/main.js', {
      NO_COLOR: '1',
      RABBITMQ_URL,
      DATABASE_URL: POSTGRES_URL,
      RABBITMQ_EXCHANGE: `${namespace}events`,
      TIDINGS_NAMESPACE: namespace,
      QUESTIONS_PORT: '0',
      FEED_PORT: '0',
      NOTIFICATIONS_PORT: '0',
      // Quick and many retries: with the demo's 20 % push failures, every notification gets through in the end.
      NOTIFY_MAX_ATTEMPTS: '10',
      NOTIFY_RETRY_DELAY_MS: '100',
      ...schemas,
    });
    try {
      await demo.waitForLine(/Tidings Q&A demo is running \(seeded 9 questions and 11 answers\)/, 90_000);
      const address = (label: string): string => {
        const line = demo.lines.find((l) => l.trimStart().startsWith(label)) ?? '';
        return /(http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1] ?? `(no ${label} line)`;
      };
      const feed = address('Live feed page');
      const notifications = address('Notifications');
      expect(demo.lines.some((l) => l.includes('RabbitMQ management   http://127.0.0.1:15672/#/queues'))).toBe(true);

      await eventually(async () => {
        const page = (await (await fetch(`${feed}/feed?limit=100`)).json()) as { items: unknown[] };
        expect(page.items).toHaveLength(9);
      });
      expect((await fetch(`${feed}/`)).headers.get('content-type')).toMatch(/^text\/html/);
      // ana asked two questions that others answered five times in all; the flaky provider's failures were retried.
      await eventually(
        async () => {
          const list = (await (await fetch(`${notifications}/notifications?userId=ana`)).json()) as { items: unknown[] };
          expect(list.items).toHaveLength(5);
        },
        { timeoutMs: 30_000 },
      );

      const servicePids = [...new Set(demo.lines.flatMap((l) => /\| \[Nest\] (\d+)/.exec(l)?.[1] ?? []).map(Number))];
      expect(servicePids).toHaveLength(3);
      await demo.kill('SIGINT');
      expect(await demo.exited).toBe(0);
      expect(servicePids.filter(isAlive)).toEqual([]);
    } finally {
      await demo.kill('SIGKILL');
    }
  }, 150_000);
});

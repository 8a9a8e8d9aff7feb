import { decodeMessage, eventually, withDeadline, type EventLog, type LogEntry } from '@tidings/core';
import type { RabbitMqTransport } from '@tidings/rabbitmq';
import { READ_PREFETCH, StreamEventLog } from '../../libs/rabbitmq/src/event-log/stream.event-log.js';
import { RabbitMqFixture } from './rabbitmq.fixture.js';

const TIMEOUT_MS = 60_000;
const MANAGEMENT_API = 'http://127.0.0.1:15672/api';
const AUTHORIZATION = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

/** Closes the broker-side connection whose client named itself `connectionName`, as an operator (or a network fault) would. */
async function forceClose(connectionName: string): Promise<void> {
  // The management API lists a connection shortly after it opened, not at once.
  const name = await eventually(
    async () => {
      const response = await fetch(`${MANAGEMENT_API}/connections`, { headers: { authorization: AUTHORIZATION } });
      const connections = (await response.json()) as { name: string; client_properties?: { connection_name?: string } }[];
      const found = connections.find((c) => c.client_properties?.connection_name === connectionName);
      if (!found) throw new Error(`no connection named ${connectionName} yet`);
      return found.name;
    },
    { timeoutMs: 10_000, intervalMs: 100 },
  );
  const response = await fetch(`${MANAGEMENT_API}/connections/${encodeURIComponent(name)}`, {
    method: 'DELETE',
    headers: { authorization: AUTHORIZATION, 'x-reason': 'stream-event-log e2e: connection closed under a following read' },
  });
  expect(response.status).toBe(204);
}

describe('StreamEventLog against the real broker', () => {
  let fx: RabbitMqFixture;
  let transport: RabbitMqTransport;
  let log: StreamEventLog;

  beforeEach(async () => {
    fx = new RabbitMqFixture();
    const queue = `${fx.prefix}log`;
    fx.track(queue);
    transport = fx.transport({ eventLog: { queue }, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
    await transport.start();
    const eventLog: EventLog | undefined = transport.eventLog;
    if (!(eventLog instanceof StreamEventLog)) throw new Error('the transport should read its event log from a stream');
    log = eventLog;
  }, TIMEOUT_MS);

  afterEach(() => fx.dispose(), TIMEOUT_MS);

  it(
    'buffers no more than about the prefetch window for a slow reader, then reads all 20,000 entries in order',
    async () => {
      const N = 20_000;
      const type = fx.type('bulk.fact');
      for (let n = 0; n < N; n += 1000) {
        await transport.publish(Array.from({ length: 1000 }, (_, i) => fx.envelope(type, { n: n + i })));
      }

      const entries = log.read(0)[Symbol.asyncIterator]();
      const taken: LogEntry[] = [];
      for (let i = 0; i < 10; i++) {
        const step = await entries.next();
        if (!step.done) taken.push(step.value);
      }
      // The broker fills the window (2000 unacked deliveries) at once; crediting on receipt would let it send all 20,000.
      await eventually(() => expect(log.buffered).toBeGreaterThanOrEqual(READ_PREFETCH - 10), { timeoutMs: 10_000 });
      let most = 0;
      const watchedUntil = Date.now() + 500;
      while (Date.now() < watchedUntil) {
        most = Math.max(most, log.buffered);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // A stream sends whole chunks, so the window overshoots by up to the rest of one chunk.
      expect(most).toBeLessThanOrEqual(2 * READ_PREFETCH);

      for (let step = await entries.next(); !step.done; step = await entries.next()) taken.push(step.value);
      expect(log.buffered).toBe(0);
      expect(taken).toHaveLength(N);
      expect(taken.map((e) => (decodeMessage(e.message).data as { n: number }).n)).toEqual(Array.from({ length: N }, (_, n) => n));
      taken.slice(1).forEach((entry, i) => expect(entry.position).toBeGreaterThan(taken[i]?.position ?? Infinity));
      console.info(`stream read of ${N}: at most ${most} entries buffered with prefetch ${READ_PREFETCH}`);
    },
    TIMEOUT_MS,
  );

  it(
    'a following read throws when its connection is closed, and reading again from the next position carries on',
    async () => {
      const type = fx.type('followed.fact');
      const from = await log.head();
      await transport.publish([fx.envelope(type, { n: 0 })]);
      const seen: LogEntry[] = [];
      const reading = (async () => {
        for await (const entry of log.read(from, { follow: true })) seen.push(entry);
      })();
      const failed = reading.then(
        () => new Error('the following read returned instead of throwing'),
        (error: unknown) => error,
      );
      await eventually(() => expect(seen).toHaveLength(1));

      await forceClose(`${fx.prefix}test (consumer)`);

      const failure = await withDeadline(failed, 10_000, 'the following read to throw');
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toMatch(/channel reading stream .* closed/);

      // What a caller does: read again from the position after the last entry it handled, once reconnected.
      const controller = new AbortController();
      const again: LogEntry[] = [];
      const next = (seen[0]?.position ?? from) + 1;
      const resumed = (async () => {
        for await (const entry of log.read(next, { follow: true, signal: controller.signal })) again.push(entry);
      })();
      await transport.publish([fx.envelope(type, { n: 1 })]);
      try {
        await eventually(() => expect(again.map((e) => decodeMessage(e.message).data)).toEqual([{ n: 1 }]), { timeoutMs: 10_000 });
      } finally {
        controller.abort();
        await withDeadline(resumed, 1000, 'the resumed read to return after abort');
      }
    },
    TIMEOUT_MS,
  );
});

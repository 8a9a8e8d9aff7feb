import type { ConformanceTarget, ConformanceTargetFactory } from '../conformance/conformance.target.js';
import { Gate } from '../conformance/gate.js';
import { Latch } from '../conformance/latch.js';
import { describeTransportConformance } from '../conformance/transport.conformance.js';
import { createEnvelope } from '../envelope/envelope.factory.js';
import { TopicPattern } from '../topic/topic-pattern.js';
import { MemoryBroker, type MemoryBrokerOptions } from './memory.broker.js';
import { MemoryTransport } from './memory.transport.js';

let targets = 0;

/** A fresh broker per test; timeScale 1 so retries wait their (small) tier delays as on a real broker. */
const memoryTargets =
  (options: MemoryBrokerOptions): ConformanceTargetFactory =>
  async (): Promise<ConformanceTarget> => {
    const broker = new MemoryBroker({ timeScale: 1, ...options });
    const transports: MemoryTransport[] = [];
    return {
      prefix: `mem${++targets}.`,
      createTransport: () => {
        const transport = new MemoryTransport({ broker });
        transports.push(transport);
        return transport;
      },
      publishRaw: async (message) => broker.publish([message]),
      deadLetters: async (queue) => broker.deadLetters(queue).map(({ message, reason }) => ({ message, reason })),
      dispose: async () => {
        await Promise.all(transports.map((t) => t.stop()));
        broker.dispose();
      },
    };
  };

describeTransportConformance('memory', memoryTargets({}), { ordering: true, persistence: false, eventLog: true, rejectsUnroutable: false });

describeTransportConformance('memory without event log', memoryTargets({ eventLog: false }), {
  ordering: true,
  persistence: false,
  eventLog: false,
  rejectsUnroutable: true,
});

/** Every microtask queued so far (and those they queue) has run: the memory transport does no I/O. */
const drainMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('MemoryTransport', () => {
  it('a second stop() called while stopping also waits for in-flight deliveries', async () => {
    const broker = new MemoryBroker();
    const transport = new MemoryTransport({ broker });
    const gate = new Gate();
    const started = new Latch('delivery started');
    const subscription = { name: 'slow', patterns: [TopicPattern.parse('slow.job')], prefetch: 1, concurrency: 1, retryTiersMs: [20] };
    await transport.subscribe(subscription, async () => {
      started.arrive();
      await gate.opened;
      return { kind: 'ack' };
    });
    await transport.start();
    await transport.publish([createEnvelope({ type: 'slow.job', version: 1, source: 'memory-spec', data: {} })]);
    await started.wait(1000);

    const first = transport.stop();
    let secondResolved = false;
    const second = transport.stop().then(() => {
      secondResolved = true;
    });
    try {
      await drainMicrotasks();
      expect(secondResolved).toBe(false);
    } finally {
      gate.open();
    }
    await Promise.all([first, second]);
    broker.dispose();
  });
});

describe('MemoryTransport retry delays', () => {
  it('realises a retry on the smallest subscription tier at least as long as asked', async () => {
    const broker = new MemoryBroker({ timeScale: 0 });
    const transport = new MemoryTransport({ broker });
    const realised: number[] = [];
    broker.observe((event) => {
      if (event.kind === 'settled' && event.outcome.kind === 'retry') realised.push(event.outcome.delayMs);
    });
    const subscription = {
      name: 'tiers',
      patterns: [TopicPattern.parse('tiers.job')],
      prefetch: 1,
      concurrency: 1,
      retryTiersMs: [30, 300],
    };
    const asked = [5, 31, 5000];
    await transport.subscribe(subscription, async (message) => {
      const delayMs = asked[message.attempt - 1];
      if (delayMs === undefined) return { kind: 'ack' };
      const at = new Date().toISOString();
      return { kind: 'retry', delayMs, failure: { errorName: 'Error', message: 'again', at, firstFailureAt: at } };
    });
    await transport.start();

    await transport.publish([createEnvelope({ type: 'tiers.job', version: 1, source: 'memory-spec', data: {} })]);
    await broker.whenIdle(1000);

    expect(realised).toEqual([30, 300, 300]);
    await transport.stop();
    broker.dispose();
  });
});

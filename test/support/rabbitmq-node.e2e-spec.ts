import { connect, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { isPortFree } from './process-probes.js';
import { RabbitMqManagement } from './rabbitmq-management.js';
import { startThrowawayRabbitMq, type ThrowawayRabbitMq } from './rabbitmq-node.js';
import { nextEvent, waitUntil } from './wait-for.js';

const EVENT_TIMEOUT_MS = 15_000;

/** Connects and swallows 'error' (emitted before 'close' when the socket breaks) so that tests await 'close' instead. */
async function connectTo(url: string, opened: ChannelModel[]): Promise<ChannelModel> {
  const connection = await connect(url);
  connection.on('error', () => {});
  opened.push(connection);
  return connection;
}

function publishConfirmed(channel: ConfirmChannel, queue: string, body: string): Promise<void> {
  return new Promise((resolve, reject) =>
    channel.sendToQueue(queue, Buffer.from(body), { messageId: body }, (error) => (error ? reject(error) : resolve())),
  );
}

async function closeAll(connections: ChannelModel[]): Promise<void> {
  await Promise.all(connections.splice(0).map((connection) => connection.close().catch(() => {})));
}

describe('a throwaway RabbitMQ node', () => {
  let node: ThrowawayRabbitMq | undefined;
  const connections: ChannelModel[] = [];

  afterAll(async () => {
    await closeAll(connections);
    await node?.dispose();
  });

  it('serves AMQP, closes connections on stop_app and close_all_connections, raises and clears a memory alarm, and comes back after kill -9', async () => {
    node = await startThrowawayRabbitMq();
    expect(node.url).toBe(`amqp://guest:guest@127.0.0.1:${node.port}`);
    expect(node.port).not.toBe(5672);
    expect(node.nodeName).toBe(`tidings-${node.port}@localhost`);

    const first = await connectTo(node.url, connections);
    const channel = await first.createConfirmChannel();
    await channel.assertQueue('work', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    const delivered = new Promise<ConsumeMessage>((resolve) => {
      void channel.consume('work', (message) => {
        if (message === null) return;
        channel.ack(message);
        resolve(message);
      });
    });
    await publishConfirmed(channel, 'work', 'hello');
    expect((await delivered).content.toString()).toBe('hello');

    const stopped = nextEvent<[Error & { code?: number }]>(first, 'close', EVENT_TIMEOUT_MS);
    await node.stopApp();
    const [stopError] = await stopped;
    expect(stopError.code).toBe(320);
    expect(stopError.message).toContain("broker forced connection closure with reason 'shutdown'");
    await node.startApp();

    const second = await connectTo(node.url, connections);
    expect(await (await second.createChannel()).checkQueue('work')).toMatchObject({ queue: 'work', messageCount: 0 });
    const forced = nextEvent<[Error & { code?: number }]>(second, 'close', EVENT_TIMEOUT_MS);
    await node.closeAllConnections('closed by the throwaway node test');
    const [forcedError] = await forced;
    expect(forcedError.code).toBe(320);
    expect(forcedError.message).toContain('CONNECTION_FORCED - closed by the throwaway node test');

    const publisher = await connectTo(node.url, connections);
    const publishing = await publisher.createConfirmChannel();
    const blocked = nextEvent<[string]>(publisher, 'blocked', EVENT_TIMEOUT_MS);
    await node.setMemoryAlarm(true);
    // RabbitMQ sends connection.blocked to a connection only once it publishes during the alarm.
    const confirmed = publishConfirmed(publishing, 'work', 'during the alarm');
    expect(await blocked).toEqual(['low on memory']);
    const unblocked = nextEvent(publisher, 'unblocked', EVENT_TIMEOUT_MS);
    await node.setMemoryAlarm(false);
    await unblocked;
    await confirmed;

    const killed = nextEvent<[Error | undefined]>(publisher, 'close', EVENT_TIMEOUT_MS);
    await node.kill();
    expect((await killed)[0]).toHaveProperty('message'); // 'read ECONNRESET' when seen
    await node.restart();
    // Only the restart is proven here: what a kill -9 keeps of the last seconds (queues, messages) is up to the broker.
    const third = await connectTo(node.url, connections);
    const afterRestart = await third.createConfirmChannel();
    await afterRestart.assertQueue('after-restart', { durable: true });
    await publishConfirmed(afterRestart, 'after-restart', 'back');
    const got = await afterRestart.get('after-restart', { noAck: true });
    expect(got && got.content.toString()).toBe('back');
    await closeAll(connections);

    await node.dispose();
    expect(existsSync(node.dir)).toBe(false);
    expect(await isPortFree(node.port)).toBe(true);
    expect(await isPortFree(node.port + 20000)).toBe(true);
  }, 180_000);
});

describe('RabbitMqManagement against the shared node', () => {
  const prefix = `tidings-test-${randomUUID().slice(0, 8)}.`;
  const management = new RabbitMqManagement();
  const connections: ChannelModel[] = [];

  afterAll(async () => {
    await closeAll(connections);
    await management.deleteByPrefix(prefix);
  });

  it('shows a queue, its exchange, bindings and consumers, and deletes them by prefix', async () => {
    const connection = await connectTo('amqp://guest:guest@127.0.0.1:5672', connections);
    const channel = await connection.createChannel();
    const exchange = `${prefix}events`;
    const queue = `${prefix}svc.sub`;
    await channel.assertExchange(exchange, 'topic', { durable: true });
    await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 5 } });
    await channel.bindQueue(queue, exchange, 'qa.#');

    expect(await management.getQueue(queue)).toMatchObject({
      name: queue,
      type: 'quorum',
      durable: true,
      arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 5 },
    });
    expect(await management.getExchange(exchange)).toMatchObject({ name: exchange, type: 'topic', durable: true });
    expect((await management.listQueues(prefix)).map((found) => found.name)).toEqual([queue]);
    expect(await management.listBindings(queue)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source: '', destination: queue, routing_key: queue }),
        expect.objectContaining({ source: exchange, destination: queue, destination_type: 'queue', routing_key: 'qa.#' }),
      ]),
    );

    // The consumer count is a statistic: it shows up with the next emission (every 5 s), not at once.
    await channel.consume(queue, () => {});
    await waitUntil(async () => (await management.consumerCount(queue)) === 1, 20_000, 'the management API to count one consumer');

    expect((await management.deleteByPrefix(prefix)).sort()).toEqual([exchange, queue]);
    expect(await management.getQueue(queue)).toBeUndefined();
    expect(await management.getExchange(exchange)).toBeUndefined();
    expect((await management.listBindings(queue)).filter((binding) => binding.source !== '')).toEqual([]);
    expect(await management.deleteQueue(queue)).toBe(false);
    expect(await management.deleteExchange(exchange)).toBe(false);
  }, 60_000);
});

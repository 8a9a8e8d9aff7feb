import type { Channel, ConsumeMessage } from 'amqplib';
import { AckCoalescer } from './ack-coalescer.js';

/** The frames a channel was asked to send: `ack 7` for a single ack, `ack ≤7` for a multiple-ack. */
function recordingChannel(): { channel: Channel; frames: string[] } {
  const frames: string[] = [];
  const channel = {
    ack: (message: ConsumeMessage, allUpTo?: boolean) => frames.push(`ack ${allUpTo ? '≤' : ''}${message.fields.deliveryTag}`),
    nack: (message: ConsumeMessage) => frames.push(`nack ${message.fields.deliveryTag}`),
  } as unknown as Channel;
  return { channel, frames };
}

const delivery = (deliveryTag: number): ConsumeMessage => ({ fields: { deliveryTag } }) as unknown as ConsumeMessage;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('AckCoalescer', () => {
  it('acks a run of deliveries settled in one turn with one multiple-ack', async () => {
    const { channel, frames } = recordingChannel();
    const acks = new AckCoalescer(channel, () => undefined);
    const messages = [1, 2, 3, 4].map(delivery);
    for (const m of messages) acks.received(m);
    for (const m of [...messages].reverse()) acks.ack(m);
    expect(frames).toEqual([]);
    await turn();
    expect(frames).toEqual(['ack ≤4']);
  });

  it('never covers a delivery still in progress: acks past it go one by one', async () => {
    const { channel, frames } = recordingChannel();
    const acks = new AckCoalescer(channel, () => undefined);
    const messages = [1, 2, 3, 4, 5].map(delivery);
    for (const m of messages) acks.received(m);
    for (const tag of [1, 2, 4, 5]) acks.ack(messages[tag - 1]!);
    await turn();
    expect(frames).toEqual(['ack ≤2', 'ack 4', 'ack 5']);
    acks.ack(messages[2]!);
    await turn();
    // Every delivery below 3 is settled, so a multiple-ack up to 3 covers just 3.
    expect(frames.slice(3)).toEqual(['ack ≤3']);
  });

  it('nacks at once, and a nacked delivery no longer holds back the multiple-ack', async () => {
    const { channel, frames } = recordingChannel();
    const acks = new AckCoalescer(channel, () => undefined);
    const messages = [1, 2, 3].map(delivery);
    for (const m of messages) acks.received(m);
    acks.requeue(messages[0]!);
    expect(frames).toEqual(['nack 1']);
    acks.ack(messages[1]!);
    acks.ack(messages[2]!);
    acks.flush();
    expect(frames).toEqual(['nack 1', 'ack ≤3']);
  });

  it('reports a frame the channel refuses instead of throwing', async () => {
    const failures: unknown[] = [];
    const channel = {
      ack: () => {
        throw new Error('Channel closed');
      },
    } as unknown as Channel;
    const acks = new AckCoalescer(channel, (error) => failures.push(error));
    acks.received(delivery(1));
    acks.ack(delivery(1));
    await turn();
    expect(failures).toEqual([new Error('Channel closed')]);
  });
});

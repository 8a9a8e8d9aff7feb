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

  it('never covers a delivery still in progress: acks above it wait for it, then go out in one multiple-ack', async () => {
    const { channel, frames } = recordingChannel();
    const acks = new AckCoalescer(channel, () => undefined);
    const messages = [1, 2, 3, 4, 5].map(delivery);
    for (const m of messages) acks.received(m);
    for (const tag of [1, 2, 4, 5]) acks.ack(messages[tag - 1]!);
    await turn();
    expect(frames).toEqual(['ack ≤2']);
    acks.ack(messages[2]!);
    await turn();
    expect(frames).toEqual(['ack ≤2', 'ack ≤5']);
  });

  it('sends a held ack alone once it has waited long enough, so a slow delivery never stalls the others', async () => {
    const { channel, frames } = recordingChannel();
    let now = 0;
    const acks = new AckCoalescer(
      channel,
      () => undefined,
      () => now,
    );
    const messages = [1, 2, 3].map(delivery);
    for (const m of messages) acks.received(m);
    acks.ack(messages[1]!);
    acks.ack(messages[2]!);
    await turn();
    expect(frames).toEqual([]);
    now = 25;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(frames).toEqual(['ack 2', 'ack 3']);
    acks.ack(messages[0]!);
    await turn();
    expect(frames).toEqual(['ack 2', 'ack 3', 'ack ≤1']);
  });

  it('sends every held ack when the channel is about to close', () => {
    const { channel, frames } = recordingChannel();
    const acks = new AckCoalescer(channel, () => undefined);
    const messages = [1, 2].map(delivery);
    for (const m of messages) acks.received(m);
    acks.ack(messages[1]!);
    acks.flush(true);
    expect(frames).toEqual(['ack 2']);
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

import type { ChannelModel } from 'amqplib';
import { WriteCoalescer } from './write-coalescer.js';

/** A connection whose socket records cork/uncork, shaped as amqplib's is (`connection.stream`). */
const connectionWith = (stream: unknown): ChannelModel => ({ connection: { stream } }) as unknown as ChannelModel;

const recordingSocket = () => {
  const calls: string[] = [];
  return { calls, socket: { cork: () => calls.push('cork'), uncork: () => calls.push('uncork') } };
};

const nextCheckPhase = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('WriteCoalescer', () => {
  it('corks once per turn however many messages are published, and uncorks after the check phase it was held in', async () => {
    const { calls, socket } = recordingSocket();
    const coalescer = new WriteCoalescer();
    const connection = connectionWith(socket);

    coalescer.hold(connection);
    coalescer.hold(connection);
    coalescer.hold(connection);
    expect(calls).toEqual(['cork']);

    await nextCheckPhase();
    await nextCheckPhase();
    expect(calls).toEqual(['cork', 'uncork']);

    coalescer.hold(connection);
    expect(calls).toEqual(['cork', 'uncork', 'cork']);
    coalescer.release();
    expect(calls).toEqual(['cork', 'uncork', 'cork', 'uncork']);
    await nextCheckPhase();
    await nextCheckPhase();
    expect(calls).toEqual(['cork', 'uncork', 'cork', 'uncork']); // the scheduled release finds nothing held
  });

  it('does nothing where amqplib has no corkable stream', async () => {
    const coalescer = new WriteCoalescer();
    for (const stream of [undefined, null, {}, { cork: 'no', uncork: () => undefined }]) {
      expect(() => coalescer.hold(connectionWith(stream))).not.toThrow();
    }
    await nextCheckPhase();
    expect(() => coalescer.release()).not.toThrow();
  });
});

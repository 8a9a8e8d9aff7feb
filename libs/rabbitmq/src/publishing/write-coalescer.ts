import type { ChannelModel } from 'amqplib';

/** What the coalescer needs of a socket: Node's `Writable` cork/uncork. */
interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * Makes the messages published in one turn of the event loop leave in one `writev` instead of a syscall each.
 *
 * amqplib's multiplexer writes every message's frames to the socket with a write of their own, and the connection
 * runs with Nagle off (confirms and acks are latency-bound), so a relay publishing a claim of 500 rows made 500
 * syscalls, each one waking the broker's reader. Corking the socket until the multiplexer (scheduled with
 * `setImmediate`) has written what was published gathers them: the kernel, the broker and the client each do one
 * write's work per burst. Should the order of those callbacks ever change, the release still comes within a turn,
 * so nothing is held back longer: only the gathering is lost.
 *
 * The socket is amqplib's `connection.stream`, which its typings do not expose. Where it is missing or has no `cork`
 * (another amqplib shape), nothing is corked and messages go out as before.
 */
export class WriteCoalescer {
  private corked: Corkable | undefined;

  /** Holds the connection's writes back until the multiplexer has written what this turn published. */
  hold(connection: ChannelModel): void {
    if (this.corked) return;
    const socket = socketOf(connection);
    if (!socket) return;
    socket.cork();
    this.corked = socket;
    // The multiplexer learns of the first message through a 'readable' event that Node emits on the next tick, and then
    // schedules its write with setImmediate. A tick queued now runs after that one, so the release is scheduled after
    // the write, in the same check phase: the writes of this turn leave together, and none waits a turn longer.
    process.nextTick(() => setImmediate(() => this.release()));
  }

  /** Lets held writes go (also on close, so nothing stays corked). */
  release(): void {
    const socket = this.corked;
    this.corked = undefined;
    socket?.uncork();
  }
}

function socketOf(connection: ChannelModel): Corkable | undefined {
  const stream: unknown = (connection.connection as { stream?: unknown }).stream;
  if (typeof stream !== 'object' || stream === null) return undefined;
  const { cork, uncork } = stream as Partial<Corkable>;
  return typeof cork === 'function' && typeof uncork === 'function' ? (stream as Corkable) : undefined;
}

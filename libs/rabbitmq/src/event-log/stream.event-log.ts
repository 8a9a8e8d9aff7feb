import type { EventLog, EventLogReadOptions, LogEntry } from '@tidings/core';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { ConnectionSupervisor } from '../connection/connection.supervisor.js';
import type { ResolvedRabbitMqOptions } from '../options/resolved-options.js';
import type { ConfirmPublisher } from '../publishing/confirm.publisher.js';
import { toInboundMessage } from '../wire/amqp-message.mapping.js';
import { StreamReader } from './stream.reader.js';

/** Header of the head markers this log appends to itself; readers skip them. */
export const HEAD_MARKER_HEADER = 'x-tidings-log-marker';

/** Messages a reader asks for at once; twice a typical replay batch, so delivery overlaps the consumer's work. */
export const READ_PREFETCH = 2000;
const MARKER_TIMEOUT_MS = 10_000;

const offsetOf = (message: ConsumeMessage): number => Number(message.properties.headers?.['x-stream-offset']);
const isMarker = (message: ConsumeMessage): boolean => message.properties.headers?.[HEAD_MARKER_HEADER] !== undefined;

/**
 * The event log on a RabbitMQ stream queue, read over AMQP 0-9-1: a consumer with `x-stream-offset`
 * receives entries from that offset, each with its offset in the `x-stream-offset` header.
 *
 * AMQP 0-9-1 does not tell a stream's last offset (a passive declare reports 0 messages), so `head()`
 * appends a marker straight to the stream (through the default exchange, so no subscriber sees it) and
 * reads where it landed. Markers are skipped by `read`; they cost a few bytes per call.
 *
 * A reader acks each entry only when its caller takes it, so at most {@link READ_PREFETCH} entries (plus the
 * rest of a stream chunk) wait in memory per read. A following read appends no marker: it attaches at `from`,
 * and RabbitMQ (3.10, checked by the conformance suite) holds a consumer whose offset lies beyond the end until
 * that offset is written. It ends by returning when its signal aborts, and by throwing when its channel or
 * connection closes; the transport reconnects, the read does not resume by itself.
 */
export class StreamEventLog implements EventLog {
  private readonly readers = new Set<StreamReader>();

  constructor(
    private readonly connection: ConnectionSupervisor,
    private readonly publisher: ConfirmPublisher,
    private readonly options: ResolvedRabbitMqOptions,
  ) {}

  private get queue(): string {
    return (this.options.eventLog as { queue: string }).queue;
  }

  /** The offset just after the marker appended now: every event published before the call lies below it. */
  async head(): Promise<number> {
    const connection = await this.connection.whenConnected(this.options.publishTimeoutMs);
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    const marker = globalThis.crypto.randomUUID();
    const reader = new StreamReader(channel, this.queue);
    try {
      await reader.open(100, 'next');
      // Through the publisher connection: a resource alarm then blocks the marker, never the consumers.
      await this.publisher.publish({
        exchange: '',
        routingKey: this.queue,
        content: Buffer.alloc(0),
        options: { persistent: true, mandatory: true, headers: { [HEAD_MARKER_HEADER]: marker } },
      });
      for (;;) {
        const message = await reader.next({ timeoutMs: MARKER_TIMEOUT_MS });
        if (message.properties.headers?.[HEAD_MARKER_HEADER] === marker) return offsetOf(message) + 1;
      }
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /** Deliveries that this log's open reads have received and their callers have not taken yet. */
  get buffered(): number {
    let total = 0;
    for (const reader of this.readers) total += reader.buffered;
    return total;
  }

  async *read(from: number, options: EventLogReadOptions = {}): AsyncIterable<LogEntry> {
    const { signal, follow = false } = options;
    const start = Math.max(0, from);
    // A following read has no end, so it needs no marker: it attaches at `start` even if that is not written yet.
    const end = follow ? Infinity : await this.head();
    if (start >= end || signal?.aborted) return;
    const connection = await this.connection.whenConnected(this.options.publishTimeoutMs);
    const channel: Channel = await connection.createChannel();
    channel.on('error', () => undefined);
    const reader = new StreamReader(channel, this.queue);
    this.readers.add(reader);
    try {
      await reader.open(READ_PREFETCH, start);
      for (;;) {
        const message = await reader.next({ signal });
        if (!message) return;
        const position = offsetOf(message);
        // A stream starts delivering at the beginning of the chunk that holds `start`.
        if (position >= start && !isMarker(message)) yield { position, message: toInboundMessage(message) };
        if (position >= end - 1) return;
      }
    } finally {
      this.readers.delete(reader);
      await channel.close().catch(() => undefined);
    }
  }
}

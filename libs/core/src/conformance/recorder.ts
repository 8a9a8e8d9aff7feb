import type { EventContext } from '../pipeline/event-context.js';
import { DEFAULT_WAIT_MS, Latch } from './latch.js';

/** One handled delivery, as a {@link Recorder} saw it. */
export interface RecordedDelivery {
  /** Event id. */
  readonly id: string;
  readonly type: string;
  readonly attempt: number;
  readonly data: unknown;
  /** The consumer label given to {@link Recorder.as}, if any. */
  readonly consumer: string | undefined;
}

/** Records what handlers received, in arrival order, and lets a test wait on it with a deadline. */
export class Recorder {
  readonly deliveries: RecordedDelivery[] = [];
  private readonly latch: Latch;

  constructor(readonly label: string) {
    this.latch = new Latch(label);
  }

  /** A handler body that records each delivery. */
  readonly record = (data: unknown, context: EventContext): void => this.add(data, context, undefined);

  /** Like {@link record}, tagging each delivery with the consumer that handled it. */
  as(consumer: string): (data: unknown, context: EventContext) => void {
    return (data, context) => this.add(data, context, consumer);
  }

  get count(): number {
    return this.deliveries.length;
  }

  /** Event ids in arrival order (repeated if an event was handled more than once). */
  ids(consumer?: string): string[] {
    return this.deliveries.filter((d) => consumer === undefined || d.consumer === consumer).map((d) => d.id);
  }

  types(): string[] {
    return this.deliveries.map((d) => d.type);
  }

  has(id: string): boolean {
    return this.deliveries.some((d) => d.id === id);
  }

  /** Resolves once `count` deliveries were recorded. */
  waitFor(count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.latch.waitFor(count, timeoutMs);
  }

  /** Resolves once the event `id` was recorded. */
  waitForId(id: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.latch.until(() => this.has(id), timeoutMs, `event ${id}`);
  }

  private add(data: unknown, context: EventContext, consumer: string | undefined): void {
    const { id, type } = context.envelope;
    this.deliveries.push({ id, type, attempt: context.attempt, data, consumer });
    this.latch.arrive();
  }
}

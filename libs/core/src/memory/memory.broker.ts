import { ConfigurationError } from '../errors/configuration.error.js';
import { TidingsError } from '../errors/tidings.error.js';
import { PublishFailedError, type PublishFailure } from '../errors/publish-failed.error.js';
import type { TopicPattern } from '../topic/topic-pattern.js';
import type { DeliveryOutcome } from '../transport/delivery-outcome.js';
import type { OutboundMessage } from '../transport/transport-message.js';
import { MemoryDeadLetterStore, type MemoryDeadLetter } from './memory.dead-letter.store.js';
import { MemoryEventLog } from './memory.event-log.js';
import { MemoryQueue, type QueuedMessage } from './memory.queue.js';

/** Options of a {@link MemoryBroker}. */
export interface MemoryBrokerOptions {
  /** Keep every published message in a replayable log (the transport's `eventLog`). @default true */
  readonly eventLog?: boolean;
  /**
   * Multiplies retry delays: 1 waits the real tier delay, 0 retries on the next tick (tests, where
   * waiting a minute proves nothing). @default 1
   */
  readonly timeScale?: number;
}

/** What the broker reports to observers (test harnesses, the demo's console). */
export type MemoryBrokerEvent =
  | { readonly kind: 'published'; readonly message: OutboundMessage }
  | { readonly kind: 'settled'; readonly queue: string; readonly item: QueuedMessage; readonly outcome: DeliveryOutcome };

/** Thrown by {@link MemoryBroker.whenIdle} when work is still pending at the deadline. */
export class BrokerNotIdleError extends TidingsError {
  readonly code = 'TIDINGS_NOT_IDLE';

  constructor(timeoutMs: number, pending: Readonly<Record<string, number>>) {
    super(`The memory broker still had work after ${timeoutMs} ms: ${JSON.stringify(pending)}`, {
      context: { timeoutMs, pending },
      hint: 'A handler may be stuck or publishing in a loop; or raise the timeout if the work is just slow.',
    });
  }
}

/**
 * An in-process broker: topic routing to named queues, competing consumers, delayed retries,
 * a dead-letter store with reasons, and a replayable log. Several {@link MemoryTransport}s may
 * share one broker, standing for several processes or services. Deterministic: no I/O, FIFO queues,
 * round-robin dispatch.
 */
export class MemoryBroker {
  readonly eventLog: MemoryEventLog | undefined;
  private readonly queues = new Map<string, MemoryQueue>();
  private readonly deadLetterStore = new MemoryDeadLetterStore();
  private readonly retryTimers = new Set<ReturnType<typeof setTimeout>>();
  private readonly observers = new Set<(event: MemoryBrokerEvent) => void>();
  private idleWaiters: (() => void)[] = [];
  private readonly timeScale: number;

  constructor(options: MemoryBrokerOptions = {}) {
    this.eventLog = options.eventLog === false ? undefined : new MemoryEventLog();
    this.timeScale = options.timeScale ?? 1;
    if (!(this.timeScale >= 0)) {
      throw new ConfigurationError(`Invalid timeScale ${this.timeScale}`, 'timeScale must be 0 (immediate retries) or more.');
    }
  }

  /** Declares a queue (idempotent) and adds bindings to it. */
  declareQueue(name: string, patterns: readonly TopicPattern[]): MemoryQueue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new MemoryQueue(
        name,
        (q, item, outcome) => this.realise(q, item, outcome),
        () => this.checkIdle(),
      );
      this.queues.set(name, queue);
    }
    queue.bind(patterns);
    return queue;
  }

  /**
   * Routes messages to every bound queue and the log. A message with no destination is not accepted
   * (PublishFailedError, reason `unroutable`); the others of the call are delivered, as on RabbitMQ.
   */
  publish(messages: readonly OutboundMessage[]): void {
    const failures: PublishFailure[] = [];
    for (const message of messages) {
      const targets = [...this.queues.values()].filter((q) => q.matches(message.routingKey));
      if (targets.length === 0 && !this.eventLog) {
        const id = message.attributes['id'] ?? '(no id)';
        failures.push({ id, type: message.routingKey, reason: 'unroutable', detail: `no queue is bound for '${message.routingKey}'` });
        continue;
      }
      this.eventLog?.append(message);
      for (const queue of targets) queue.enqueue({ message, attempt: 1 });
      this.emit({ kind: 'published', message });
    }
    if (failures.length > 0) throw new PublishFailedError(failures, messages.length - failures.length);
  }

  /** Dead letters, oldest first, of one queue or of all. */
  deadLetters(queue?: string): readonly MemoryDeadLetter[] {
    return this.deadLetterStore.list(queue);
  }

  /** Moves a dead letter back to its queue as a first attempt. Returns false if the id is unknown. */
  replayDeadLetter(id: number): boolean {
    const letter = this.deadLetterStore.take(id);
    if (!letter) return false;
    this.queues.get(letter.queue)?.enqueue({ message: letter.message, attempt: 1 });
    return true;
  }

  /** Messages waiting, in flight and scheduled for retry, per queue that has consumers. */
  pending(): Record<string, number> {
    const pending: Record<string, number> = {};
    for (const q of this.queues.values()) {
      const count = (q.hasConsumers ? q.depth : 0) + q.inFlight;
      if (count > 0) pending[q.name] = count;
    }
    if (this.retryTimers.size > 0) pending['(scheduled retries)'] = this.retryTimers.size;
    return pending;
  }

  /**
   * Resolves once nothing is waiting in a consumed queue, in flight, or scheduled for retry: the
   * published events and everything they caused have been handled. Messages in queues nobody
   * consumes do not count (they wait for their service).
   */
  whenIdle(timeoutMs = 5000): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== waiter);
        reject(new BrokerNotIdleError(timeoutMs, this.pending()));
      }, timeoutMs);
      this.idleWaiters.push(waiter);
    });
  }

  /** Registers an observer; returns the function that removes it. Observers must not throw. */
  observe(observer: (event: MemoryBrokerEvent) => void): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** Cancels scheduled retries (they are lost: this is an in-memory broker going away). */
  dispose(): void {
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    this.checkIdle();
  }

  private realise(queue: MemoryQueue, item: QueuedMessage, outcome: DeliveryOutcome): void {
    if (outcome.kind === 'retry') {
      const failures = { firstFailureAt: outcome.failure.firstFailureAt, lastError: outcome.failure.errorName };
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        queue.enqueue({ message: item.message, attempt: item.attempt + 1, failures });
        // The broker may be idle now: the retry landed in a queue nobody consumes.
        this.checkIdle();
      }, outcome.delayMs * this.timeScale);
      // A pending in-memory retry must not keep a process alive that is otherwise done.
      timer.unref?.();
      this.retryTimers.add(timer);
    } else if (outcome.kind === 'deadLetter') {
      this.deadLetterStore.add(queue.name, item.message, outcome.reason);
    }
    this.emit({ kind: 'settled', queue: queue.name, item, outcome });
  }

  private emit(event: MemoryBrokerEvent): void {
    for (const observer of this.observers) observer(event);
  }

  private isIdle(): boolean {
    return Object.keys(this.pending()).length === 0;
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const waiter of waiters) waiter();
  }
}

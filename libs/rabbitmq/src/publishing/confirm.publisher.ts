import type { PublishFailureReason } from '@tidings/core';
import type { ChannelModel, ConfirmChannel, Message } from 'amqplib';
import type { ConnectionSupervisor } from '../connection/connection.supervisor.js';
import type { ResolvedRabbitMqOptions } from '../options/resolved-options.js';
import type { AmqpPublication } from '../wire/amqp-message.mapping.js';
import { PublishWindow } from './publish-window.js';
import { WriteCoalescer } from './write-coalescer.js';

/** The state of one confirm channel: what awaits confirmation on it, and what came back unroutable. */
interface ChannelSlot {
  readonly channel: ConfirmChannel;
  readonly connection: ChannelModel;
  /** Each publish awaiting its confirm: how to fail it, and its deadline (epoch ms). */
  readonly pending: Map<(error: Error) => void, number>;
  readonly returned: Map<string, number>;
  writable: Promise<void> | undefined;
  closedBecause: string | undefined;
}

const returnKey = (exchange: string, routingKey: string, messageId: string | undefined): string =>
  `${exchange}\u0000${routingKey}\u0000${messageId ?? ''}`;

/** Why the broker did not accept one message: the reason for PublishFailedError, and a sentence. */
export class NotAcceptedError extends Error {
  constructor(
    readonly reason: PublishFailureReason,
    detail: string,
  ) {
    super(detail);
    this.name = 'NotAcceptedError';
  }
}

/**
 * Publishes on a confirm channel of the publisher connection with many confirms in flight (bounded by
 * `publishWindow`). A promise resolves only when the broker confirmed the message, and rejects when it
 * was returned as unroutable (`mandatory`), nacked, or its channel or connection died first: no publish
 * ever hangs, and nothing is buffered without bound (`publish` returning false waits for `drain`).
 */
export class ConfirmPublisher {
  private slot: ChannelSlot | undefined;
  private opening: Promise<ChannelSlot> | undefined;
  private readonly window: PublishWindow;
  /** Publishes started and not yet settled, and who waits for that to reach zero (`flush`). */
  private active = 0;
  private idleWaiters: (() => void)[] = [];
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private readonly coalescer = new WriteCoalescer();

  constructor(
    private readonly supervisor: ConnectionSupervisor,
    private readonly options: ResolvedRabbitMqOptions,
    private readonly prepare: (channel: ConfirmChannel) => Promise<void>,
  ) {
    this.window = new PublishWindow(options.publishWindow);
  }

  /** Publishes one message and resolves once the broker confirmed it. */
  publish(publication: AmqpPublication): Promise<void> {
    return new Promise((resolve, reject) => this.start(publication, (error) => (error ? reject(error) : resolve())));
  }

  /**
   * Publishes every message with all confirms in flight (within the window) and resolves, never rejects, with
   * each one's failure (`undefined` when confirmed), in order. One promise for the whole batch: at tens of
   * thousands of messages a second, a promise or two per message showed up as garbage-collection time.
   */
  publishEach(publications: readonly AmqpPublication[]): Promise<(Error | undefined)[]> {
    const outcomes = new Array<Error | undefined>(publications.length);
    if (publications.length === 0) return Promise.resolve(outcomes);
    return new Promise((resolve) => {
      let left = publications.length;
      publications.forEach((publication, i) =>
        this.start(publication, (error) => {
          outcomes[i] = error;
          if (--left === 0) resolve(outcomes);
        }),
      );
    });
  }

  /** Waits until every publish in progress has been confirmed or has failed. */
  flush(): Promise<void> {
    return this.active === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Publishes awaiting confirmation now. */
  get inFlight(): number {
    return this.window.inFlight;
  }

  /** Takes a window slot (at once if one is free), sends, and calls `settled` once, when the message is confirmed or failed. */
  private start(publication: AmqpPublication, settled: (error: Error | undefined) => void): void {
    this.active++;
    const finish = (error: Error | undefined): void => {
      this.window.release();
      if (--this.active === 0) this.wakeIdle();
      settled(error);
    };
    if (this.window.tryAcquire()) this.send(publication, finish);
    else void this.window.acquire().then(() => this.send(publication, finish));
  }

  /**
   * Sends one message and waits for its confirm, all within `publishTimeoutMs`: a connection blocked by a resource
   * alarm makes publishes fail as `unconfirmed` after that long (retry them; consumers deduplicate), so neither
   * callers nor `stop()` wait without bound, and the amqplib buffer ahead of a blocked socket stays bounded. On the
   * common path (channel open, socket writable) it writes at once, without a promise.
   */
  private send(publication: AmqpPublication, finish: (error: Error | undefined) => void): void {
    const deadline = Date.now() + this.options.publishTimeoutMs;
    const slot = this.readySlot();
    if (slot && !slot.writable) return this.write(slot, publication, deadline, finish);
    this.writableSlot(deadline).then(
      (ready) => this.write(ready, publication, deadline, finish),
      (error: unknown) => finish(error instanceof Error ? error : new Error(String(error))),
    );
  }

  /** The open channel once its socket takes writes again, or why there is none before the deadline. */
  private async writableSlot(deadline: number): Promise<ChannelSlot> {
    const slot = this.readySlot() ?? (await this.channel());
    if (slot.writable) await this.before(deadline, slot.writable);
    if (slot.closedBecause !== undefined) throw new NotAcceptedError('refused', `channel closed before publishing: ${slot.closedBecause}`);
    return slot;
  }

  private write(slot: ChannelSlot, publication: AmqpPublication, deadline: number, finish: (error: Error | undefined) => void): void {
    const { exchange, routingKey, content, options } = publication;
    let done = false;
    const fail = (error: Error): void => {
      if (done) return;
      done = true;
      slot.pending.delete(fail);
      finish(error);
    };
    slot.pending.set(fail, deadline);
    this.sweepWhilePending();
    let writable: boolean;
    try {
      writable = slot.channel.publish(exchange, routingKey, content, options, (error: unknown) => {
        if (done) return;
        if (error) {
          // amqplib fails outstanding confirms with "channel closed" when the channel dies: then the broker's reason
          // (e.g. 404 NOT_FOUND for a deleted exchange) is what people need, and whether it was stored is unknown.
          if (slot.closedBecause !== undefined) return fail(new NotAcceptedError('unconfirmed', `not confirmed: ${slot.closedBecause}`));
          return fail(new NotAcceptedError('refused', `nacked by the broker${error instanceof Error ? `: ${error.message}` : ''}`));
        }
        const returns = slot.returned.size === 0 ? 0 : this.takeReturn(slot, exchange, routingKey, options.messageId);
        if (returns > 0) {
          return fail(
            new NotAcceptedError(
              'unroutable',
              `no queue is bound to exchange '${exchange || '(default)'}' for routing key '${routingKey}'`,
            ),
          );
        }
        done = true;
        slot.pending.delete(fail);
        finish(undefined);
      });
      this.coalescer.hold(slot.connection);
    } catch (error) {
      // amqplib throws synchronously, e.g. on a channel closing under us: the caller sees it as not confirmed.
      return fail(error instanceof Error ? error : new Error(String(error)));
    }
    if (!writable && !slot.writable) {
      slot.writable = new Promise<void>((drained) => slot.channel.once('drain', drained)).finally(() => (slot.writable = undefined));
    }
  }

  /** Whether the broker returned this message as unroutable (returns arrive before the confirm); consumes the return. */
  private takeReturn(slot: ChannelSlot, exchange: string, routingKey: string, messageId: string | undefined): number {
    const key = returnKey(exchange, routingKey, messageId);
    const returns = slot.returned.get(key) ?? 0;
    if (returns === 1) slot.returned.delete(key);
    else if (returns > 1) slot.returned.set(key, returns - 1);
    return returns;
  }

  /**
   * One timer per publisher, not per message (a timer each was measurable at 15k msg/s): while publishes await
   * confirms, it fails those past their deadline, to within a second.
   */
  private sweepWhilePending(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(
      () => {
        const slot = this.slot;
        if (!slot || slot.pending.size === 0) {
          clearInterval(this.sweeper);
          this.sweeper = undefined;
          return;
        }
        const now = Date.now();
        for (const [fail, deadline] of slot.pending) {
          if (deadline <= now)
            fail(new NotAcceptedError('unconfirmed', `no confirm within ${this.options.publishTimeoutMs} ms (${this.blockedHint()})`));
        }
      },
      Math.min(1000, this.options.publishTimeoutMs),
    );
    this.sweeper.unref?.();
  }

  /** `promise`, or an `unconfirmed` failure if the deadline passes first (nothing was written then). */
  private async before(deadline: number, promise: Promise<void>): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new NotAcceptedError('unconfirmed', `not sent within ${this.options.publishTimeoutMs} ms (${this.blockedHint()})`)),
        Math.max(0, deadline - Date.now()),
      );
    });
    try {
      await Promise.race([promise, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  private blockedHint(): string {
    const { state, blockedReason } = this.supervisor.status;
    return state === 'blocked'
      ? `the broker blocked publishing: ${blockedReason ?? 'resource alarm'}`
      : `the publisher connection is ${state}`;
  }

  /** The open channel of the live connection, if there is one (no promise needed on the common path). */
  private readySlot(): ChannelSlot | undefined {
    const slot = this.slot;
    return slot && slot.closedBecause === undefined && this.supervisor.current === slot.connection ? slot : undefined;
  }

  private channel(): Promise<ChannelSlot> {
    const ready = this.readySlot();
    if (ready) return Promise.resolve(ready);
    this.opening ??= this.open().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async open(): Promise<ChannelSlot> {
    const connection = await this.supervisor.whenConnected(this.options.publishTimeoutMs);
    const channel = await connection.createConfirmChannel();
    const slot: ChannelSlot = {
      channel,
      connection,
      pending: new Map(),
      returned: new Map(),
      writable: undefined,
      closedBecause: undefined,
    };
    channel.on('error', (error: Error) => {
      slot.closedBecause = error.message;
      this.options.logger.warn(`RabbitMQ publisher channel error: ${error.message}`);
    });
    channel.on('return', (message: Message) => {
      const key = returnKey(message.fields.exchange, message.fields.routingKey, message.properties.messageId as string | undefined);
      slot.returned.set(key, (slot.returned.get(key) ?? 0) + 1);
    });
    channel.once('close', () => {
      slot.closedBecause ??= 'the channel or its connection closed';
      for (const fail of [...slot.pending.keys()]) fail(new NotAcceptedError('unconfirmed', `not confirmed: ${slot.closedBecause}`));
    });
    await this.prepare(channel);
    this.slot = slot;
    return slot;
  }

  /** Closes the channel (after `flush`, so nothing is pending). */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.coalescer.release();
    const slot = this.slot;
    this.slot = undefined;
    if (slot && slot.closedBecause === undefined) await slot.channel.close().catch(() => undefined);
  }
}

import { TidingsError } from '@tidings/core';
import { connect, type ChannelModel, type RecoveringChannelModel } from 'amqplib';
import { BrokerUnavailableError } from '../errors/broker-unavailable.error.js';
import type { ResolvedRabbitMqOptions } from '../options/resolved-options.js';
import { redactUrl } from '../options/redact-url.js';

/** Where a supervised connection stands; `blocked` means the broker refuses publishes (resource alarm). */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'blocked' | 'reconnecting' | 'stopped';

/** See {@link ConnectionSupervisor.socketBuffer}: a claim of 500 to 2,000 1 KiB events. */
const PUBLISHER_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/** Called on every (re)connection, before the connection is handed out: declare topology, resubscribe. */
export type ConnectedHook = (connection: ChannelModel) => Promise<void>;

interface Waiter {
  readonly resolve: (connection: ChannelModel) => void;
  readonly reject: (error: Error) => void;
}

/**
 * One AMQP connection for one role (publisher or consumer), kept alive by amqplib's connection recovery:
 * exponential backoff with jitter, and `onConnected` run exactly once per new connection. The first
 * connection fails fast (a wrong URL should fail the deployment); a connection lost later is retried
 * forever. Every 'error' event is logged, never thrown; the password never reaches a log line or error.
 */
export class ConnectionSupervisor {
  private recovering: RecoveringChannelModel | undefined;
  private connection: ChannelModel | undefined;
  private state: ConnectionState = 'idle';
  private blockedReason: string | undefined;
  private waiters: Waiter[] = [];

  constructor(
    private readonly role: 'publisher' | 'consumer',
    private readonly options: ResolvedRabbitMqOptions,
    private readonly onConnected: ConnectedHook,
  ) {}

  get status(): { readonly state: ConnectionState; readonly blockedReason?: string } {
    return this.blockedReason === undefined ? { state: this.state } : { state: this.state, blockedReason: this.blockedReason };
  }

  /** The live connection, if any. */
  get current(): ChannelModel | undefined {
    return this.state === 'connected' || this.state === 'blocked' ? this.connection : undefined;
  }

  async start(): Promise<void> {
    if (this.state !== 'idle' && this.state !== 'stopped') return;
    this.state = 'connecting';
    const { initialDelayMs, maxDelayMs, jitter } = this.options.reconnect;
    try {
      const recovering = await connect(this.urlWithHeartbeat(), {
        ...this.options.socketOptions,
        // Confirms, acks and small publishes are latency-bound: Nagle's algorithm held deliveries back by tens of ms.
        noDelay: true,
        ...this.socketBuffer(),
        clientProperties: { connection_name: `${this.options.connectionName} (${this.role})` },
        recovery: {
          initialDelay: initialDelayMs,
          maxDelay: maxDelayMs,
          factor: 2,
          jitter,
          maxRetries: Infinity,
          initialMaxRetries: 0,
          waitForConnect: false,
          setup: (model: ChannelModel) => this.onConnected(model),
        },
      });
      this.recovering = recovering;
      this.listen(recovering);
      await recovering.waitForConnect();
    } catch (error) {
      await this.stop();
      // Our own errors (a topology mismatch from the setup hook) already say what is wrong; keep them.
      throw error instanceof TidingsError ? error : new BrokerUnavailableError(redactUrl(this.options.url), this.describe(error), error);
    }
  }

  /**
   * The publisher's socket takes what one turn publishes before it reports back pressure: its writes are corked for
   * the turn (`WriteCoalescer`), and amqplib's multiplexer stops filling a socket whose buffer is past the mark,
   * then writes the rest after `drain` one message per syscall. Node's default of 16 KiB held about ten messages.
   * This moves bytes from amqplib's channel buffers to the socket's, it does not add any: the publish window bounds both.
   */
  private socketBuffer(): { writableHighWaterMark?: number } {
    return this.role === 'publisher' ? { writableHighWaterMark: PUBLISHER_SOCKET_BUFFER_BYTES } : {};
  }

  /** The connection, waiting up to `timeoutMs` while a reconnection is in progress. */
  whenConnected(timeoutMs: number): Promise<ChannelModel> {
    const live = this.current;
    if (live) return Promise.resolve(live);
    if (this.state === 'stopped' || this.state === 'idle') {
      return Promise.reject(new BrokerUnavailableError(redactUrl(this.options.url), `the ${this.role} connection is ${this.state}`));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new BrokerUnavailableError(redactUrl(this.options.url), `no ${this.role} connection within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        resolve: (connection) => {
          clearTimeout(timer);
          resolve(connection);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Closes the connection and stops recovering; waiters fail. */
  async stop(): Promise<void> {
    this.state = 'stopped';
    this.connection = undefined;
    this.blockedReason = undefined;
    this.settleWaiters(
      new BrokerUnavailableError(redactUrl(this.options.url), `the ${this.role} connection was closed by the application`),
    );
    const recovering = this.recovering;
    this.recovering = undefined;
    await recovering?.close().catch(() => undefined);
  }

  private listen(recovering: RecoveringChannelModel): void {
    const { logger } = this.options;
    recovering.on('connect', (model: ChannelModel) => {
      const reconnected = this.state === 'reconnecting';
      this.connection = model;
      this.state = 'connected';
      this.blockedReason = undefined;
      if (reconnected) logger.log(`RabbitMQ ${this.role} connection re-established`);
      this.settleWaiters(model);
    });
    recovering.on('disconnect', (error: Error) => {
      if (this.state === 'stopped') return;
      this.connection = undefined;
      this.state = 'reconnecting';
      this.blockedReason = undefined;
      logger.warn(`RabbitMQ ${this.role} connection lost (${this.describe(error)}); reconnecting`);
    });
    recovering.on('reconnect-scheduled', ({ attempt, delay, error }: { attempt: number; delay: number; error: Error }) => {
      if (this.state !== 'stopped' && this.state !== 'connecting') {
        logger.warn(`RabbitMQ ${this.role} reconnect attempt ${attempt} in ${delay} ms (${this.describe(error)})`);
      }
    });
    recovering.on('reconnect-failed', (error: Error) => {
      if (this.state === 'stopped' || this.state === 'connecting') return;
      this.state = 'stopped';
      logger.error(`RabbitMQ ${this.role} connection gave up reconnecting: ${this.describe(error)}`);
      this.settleWaiters(new BrokerUnavailableError(redactUrl(this.options.url), 'reconnection gave up', error));
    });
    recovering.on('blocked', (reason: string) => {
      this.state = 'blocked';
      this.blockedReason = reason;
      logger.warn(`RabbitMQ blocked the ${this.role} connection (${reason}); publishes wait until it is unblocked`);
    });
    recovering.on('unblocked', () => {
      if (this.state === 'blocked') this.state = 'connected';
      this.blockedReason = undefined;
      logger.log(`RabbitMQ unblocked the ${this.role} connection`);
    });
    recovering.on('error', (error: Error) => logger.warn(`RabbitMQ ${this.role} connection error: ${this.describe(error)}`));
  }

  private settleWaiters(result: ChannelModel | Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) {
      if (result instanceof Error) waiter.reject(result);
      else waiter.resolve(result);
    }
  }

  private urlWithHeartbeat(): string {
    const url = new URL(this.options.url);
    if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', String(this.options.heartbeatSeconds));
    return url.toString();
  }

  /** An error's message with the URL's password, should it ever appear, masked. */
  private describe(error: unknown): string {
    const text = error instanceof Error ? error.message : String(error);
    let password = '';
    try {
      password = decodeURIComponent(new URL(this.options.url).password);
    } catch {
      // unparsable URLs were refused when the options were resolved
    }
    return password ? text.split(password).join('***') : text;
  }
}

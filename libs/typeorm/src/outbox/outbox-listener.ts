import { RelayBackoff, type OutboxWatch, type TidingsLogger } from '@tidings/core';
import type pg from 'pg';
import type { DataSource } from 'typeorm';
import { dedicatedClient } from './dedicated-connection.js';

/** Reconnects wait 0.5 s, 1 s, 2 s… up to 15 s; no jitter: one listener per process reconnects. */
const noJitter = (): number => 1;

/**
 * A dedicated connection that `LISTEN`s on the outbox channel and calls `wake` on every
 * notification. Dedicated, not pooled: it holds the session for as long as it listens. When the
 * connection drops it reconnects with backoff and wakes once on return, in case a commit was missed.
 */
export class OutboxListener implements OutboxWatch {
  private client: pg.Client | undefined;
  private closed = false;
  private readonly backoff = new RelayBackoff({ initialMs: 500, maxMs: 15_000 }, noJitter);
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly channel: string,
    private readonly wake: () => void,
    private readonly onError: (error: Error) => void,
    /** Notifications this process sent itself (its relays heard the commit directly). */
    private readonly isOwn: (backendPid: number) => boolean,
    private readonly logger?: TidingsLogger,
  ) {}

  /** Connects and listens; rejects if the first connection fails (a wrong URL should fail at start). */
  async open(): Promise<this> {
    await this.connect();
    return this;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = dedicatedClient(this.dataSource, 'tidings-outbox-listener');
    client.on('notification', (notification) => {
      if (!this.isOwn(notification.processId)) this.wake();
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch (error) {
      client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end();
      return;
    }
    this.client = client;
    this.backoff.succeeded();
  }

  private lost(client: pg.Client, error: Error): void {
    if (this.closed || this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    this.onError(error);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const delay = this.backoff.failed();
    this.retryTimer = setTimeout(() => {
      this.connect().then(
        () => {
          this.logger?.log(`Outbox wake-ups re-established on channel ${this.channel}`);
          this.wake();
        },
        () => this.scheduleReconnect(),
      );
    }, delay);
    this.retryTimer.unref();
  }
}

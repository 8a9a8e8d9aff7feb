/**
 * A tiny client of the RabbitMQ management HTTP API (the shared node's, by default), for tests to look at topology.
 *
 * Immediate (read from the schema database): whether a queue or exchange exists, its name, type, durable, arguments,
 * and bindings. Lagging (statistics, emitted every `collect_statistics_interval`, 5 s by default): `consumers`,
 * `messages`, `messages_ready`, `messages_unacknowledged` are absent for the first ~5 s of a queue's life and then
 * trail the truth by up to 5 s (10 s seen for quorum queues). For exact counts at once, use AMQP `checkQueue`.
 */

/** A queue as the management API shows it, with only the fields tests use. */
export interface ManagementQueue {
  readonly name: string;
  /** `classic`, `quorum` or `stream`. */
  readonly type: string;
  readonly durable: boolean;
  readonly auto_delete: boolean;
  readonly arguments: Readonly<Record<string, unknown>>;
  /** Statistics: absent until the queue's first stats emission, then up to one interval late. */
  readonly consumers?: number;
  /** Statistics: ready + unacknowledged; absent at first, then up to one interval late. */
  readonly messages?: number;
  readonly messages_ready?: number;
  readonly messages_unacknowledged?: number;
}

/** An exchange as the management API shows it. */
export interface ManagementExchange {
  readonly name: string;
  /** `direct`, `topic`, `fanout`, `headers`, or a plugin's type. */
  readonly type: string;
  readonly durable: boolean;
  readonly auto_delete: boolean;
  readonly internal: boolean;
  readonly arguments: Readonly<Record<string, unknown>>;
}

/** A binding; `source` is `''` for the default exchange's implicit binding of every queue. */
export interface ManagementBinding {
  readonly source: string;
  readonly destination: string;
  readonly destination_type: 'queue' | 'exchange';
  readonly routing_key: string;
  readonly arguments: Readonly<Record<string, unknown>>;
}

/** Where the management API is. */
export interface RabbitMqManagementOptions {
  /** @default 'http://127.0.0.1:15672/api' */
  readonly baseUrl?: string;
  /** @default 'guest' */
  readonly username?: string;
  /** @default 'guest' */
  readonly password?: string;
  /** @default '/' */
  readonly vhost?: string;
}

/** Queues and exchanges of one vhost, through the management HTTP API. */
export class RabbitMqManagement {
  private readonly baseUrl: string;
  private readonly authorization: string;
  private readonly vhost: string;

  constructor(options: RabbitMqManagementOptions = {}) {
    this.baseUrl = options.baseUrl ?? 'http://127.0.0.1:15672/api';
    this.authorization = `Basic ${Buffer.from(`${options.username ?? 'guest'}:${options.password ?? 'guest'}`).toString('base64')}`;
    this.vhost = encodeURIComponent(options.vhost ?? '/'); // '/' becomes %2F
  }

  /** The queue, or `undefined` if there is none of that name. */
  getQueue(name: string): Promise<ManagementQueue | undefined> {
    return this.get<ManagementQueue>(`/queues/${this.vhost}/${encodeURIComponent(name)}`);
  }

  /** Queues whose names start with `prefix`. */
  async listQueues(prefix: string): Promise<ManagementQueue[]> {
    const all = (await this.get<ManagementQueue[]>(`/queues/${this.vhost}`)) ?? [];
    return all.filter((queue) => queue.name.startsWith(prefix));
  }

  /** The exchange, or `undefined` if there is none of that name. */
  getExchange(name: string): Promise<ManagementExchange | undefined> {
    return this.get<ManagementExchange>(`/exchanges/${this.vhost}/${encodeURIComponent(name)}`);
  }

  /**
   * Bindings whose destination is the queue, the default exchange's implicit one (`source: ''`) included.
   * RabbitMQ 3.10 answers even for a queue that does not exist, with just that implicit binding.
   */
  async listBindings(queue: string): Promise<ManagementBinding[]> {
    return (await this.get<ManagementBinding[]>(`/queues/${this.vhost}/${encodeURIComponent(queue)}/bindings`)) ?? [];
  }

  /** Consumers of the queue as of the last statistics emission; `undefined` if no such queue or no statistics yet. */
  async consumerCount(queue: string): Promise<number | undefined> {
    return (await this.getQueue(queue))?.consumers;
  }

  /** Deletes the queue (with its messages); `false` if there was none. */
  async deleteQueue(name: string): Promise<boolean> {
    return this.delete(`/queues/${this.vhost}/${encodeURIComponent(name)}`);
  }

  /** Deletes the exchange; `false` if there was none. */
  async deleteExchange(name: string): Promise<boolean> {
    return this.delete(`/exchanges/${this.vhost}/${encodeURIComponent(name)}`);
  }

  /** Deletes every queue and exchange whose name starts with `prefix` (at least 6 characters); returns their names. */
  async deleteByPrefix(prefix: string): Promise<string[]> {
    if (prefix.length < 6 || prefix.startsWith('amq.'))
      throw new Error(`Refusing to delete by the prefix ${JSON.stringify(prefix)}: too broad`);
    const deleted: string[] = [];
    for (const queue of await this.listQueues(prefix)) {
      if (await this.deleteQueue(queue.name)) deleted.push(queue.name);
    }
    const exchanges = (await this.get<ManagementExchange[]>(`/exchanges/${this.vhost}`)) ?? [];
    for (const exchange of exchanges.filter((candidate) => candidate.name.startsWith(prefix))) {
      if (await this.deleteExchange(exchange.name)) deleted.push(exchange.name);
    }
    return deleted;
  }

  /** The parsed body, or `undefined` on 404. */
  private async get<T>(path: string): Promise<T | undefined> {
    const response = await this.request('GET', path);
    return response && ((await response.json()) as T);
  }

  /** `false` on 404. */
  private async delete(path: string): Promise<boolean> {
    const response = await this.request('DELETE', path);
    await response?.body?.cancel();
    return response !== undefined;
  }

  /** The response, `undefined` on 404; throws on any other failure. */
  private async request(method: 'GET' | 'DELETE', path: string): Promise<Response | undefined> {
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers: { authorization: this.authorization } });
    if (response.ok) return response;
    const body = await response.text();
    if (response.status === 404) return undefined;
    throw new Error(`RabbitMQ management ${method} ${path} answered ${response.status}: ${body}`);
  }
}

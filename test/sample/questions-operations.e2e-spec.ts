import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { eventually, MemoryTransport, TopicPattern, type Envelope, type TransportHealth } from '@tidings/core';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { QuestionsAppModule } from '../../apps/questions/src/questions-app.module.js';
import { dropSchemas, POSTGRES_URL } from '../typeorm/outbox-database.js';

// The questions service's operations contract on the real PostgreSQL: /health, /metrics, and 503 + Retry-After once
// the outbox backlog passes its bound. The broker's outage is played by a memory transport that refuses publishes
// (the relay's behaviour against a real broker outage is tested in test/typeorm/outbox-outage.e2e-spec.ts).

/** A broker that can be switched off: publishes fail and health says so. */
class SwitchableBroker extends MemoryTransport {
  reachable = true;
  override publish(envelopes: readonly Envelope[]): Promise<void> {
    return this.reachable ? super.publish(envelopes) : Promise.reject(new Error('broker unreachable'));
  }
  override health(): TransportHealth {
    return this.reachable ? super.health() : { healthy: false, detail: 'broker unreachable' };
  }
}

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: Record<string, unknown>;
}

describe('questions service operations', () => {
  const schema = `questions_ops_${process.pid}_${Date.now().toString(36)}`;
  const transport = new SwitchableBroker();
  let app: INestApplication;
  let base: string;

  const call = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<Reply> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: text.startsWith('{') ? JSON.parse(text) : {} };
  };
  const ask = () => call('POST', '/questions', { title: 'What is entropy?', body: '', subject: 'physics', grade: 11, authorId: 'ana' });
  const pendingRows = async (): Promise<number> => {
    const ds = app.get(DataSource);
    const [row] = (await ds.query(`SELECT count(*)::int AS n FROM "${schema}".tidings_outbox`)) as { n: number }[];
    return row?.n ?? -1;
  };

  beforeAll(async () => {
    app = await NestFactory.create(
      QuestionsAppModule.forRoot(
        { port: 0, databaseUrl: POSTGRES_URL, schema, rabbitMqUrl: 'unused', exchange: 'unused', namespace: '', maxOutboxBacklog: 3 },
        { transport },
      ),
      { logger: false },
    );
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    transport.reachable = true;
    await app.close();
    await dropSchemas([schema]);
  });

  it('reports the broker, the database and the outbox on /health, and Prometheus metrics on /metrics', async () => {
    expect((await ask()).status).toBe(201);
    await eventually(async () => expect(await pendingRows()).toBe(0));
    const health = await call('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.json).toEqual({
      status: 'up',
      checks: {
        broker: { status: 'up', detail: 'memory transport started' },
        database: { status: 'up', detail: 'PostgreSQL answers' },
        outbox: { status: 'up', detail: '0 pending, oldest waited 0 ms; relay running', pending: 0, oldestDueAgeMs: 0 },
      },
    });

    const metrics = await call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics.text).toMatch(/^tidings_outbox_pending 0$/m);
    expect(metrics.text).toMatch(/^tidings_outbox_published_total 1$/m);
    expect(metrics.text).toMatch(/^tidings_transport_up 1$/m);
    expect(metrics.text).toMatch(/^process_cpu_user_seconds_total \d/m);
  });

  it('answers commands 503 with Retry-After while the backlog is above its bound, loses none it accepted, and recovers', async () => {
    transport.reachable = false;
    const accepted: string[] = [];
    let refused: Reply | undefined;
    // The bound is 3 and the backlog is read at most every 500 ms, so a few more get in before the refusals start.
    await eventually(
      async () => {
        const reply = await ask();
        if (reply.status === 201) accepted.push(reply.json['id'] as string);
        else refused = reply;
        expect(reply.status).toBe(503);
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    expect(accepted.length).toBeGreaterThan(3);
    expect(refused?.json['message']).toMatch(new RegExp(`^${accepted.length} events are waiting to be published; try again in \\d+ s$`));
    expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await pendingRows()).toBe(accepted.length); // every accepted command's event is in the outbox
    expect((await call('GET', `/questions/${accepted[0] as string}`)).status).toBe(200); // reads are not refused

    const health = await call('GET', '/health');
    expect(health.status).toBe(503);
    expect(health.json).toMatchObject({
      status: 'down',
      checks: {
        broker: { status: 'down', detail: 'broker unreachable' },
        database: { status: 'up' },
        outbox: { pending: accepted.length },
      },
    });
    expect((await call('GET', '/metrics')).text).toMatch(/^tidings_transport_up 0$/m);

    const delivered: string[] = [];
    await transport.subscribe(
      { name: `${schema}.check`, patterns: [TopicPattern.parse('qa.question.asked')], prefetch: 10, concurrency: 1, retryTiersMs: [1000] },
      async (message) => {
        delivered.push(message.attributes['partitionkey'] ?? '');
        return { kind: 'ack' };
      },
    );
    transport.reachable = true;
    await eventually(async () => expect(await pendingRows()).toBe(0), { timeoutMs: 30_000 });
    await eventually(() => expect([...delivered].sort()).toEqual([...accepted].sort()));
    await eventually(async () => expect((await ask()).status).toBe(201));
    expect((await call('GET', '/health')).status).toBe(200);
  }, 60_000);
});

import { existsSync } from 'node:fs';
import pg from 'pg';
import { isPortFree } from './process-probes.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from './postgres-node.js';
import { nextEvent } from './wait-for.js';

/** Connects and swallows 'error' (emitted when the server goes away) so that tests await it as an event instead. */
async function connectTo(url: string, opened: pg.Client[]): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  opened.push(client);
  await client.connect();
  return client;
}

async function closeAll(clients: pg.Client[]): Promise<void> {
  await Promise.all(clients.splice(0).map((client) => client.end().catch(() => {})));
}

describe('a throwaway PostgreSQL cluster', () => {
  let server: ThrowawayPostgres | undefined;
  const clients: pg.Client[] = [];

  afterAll(async () => {
    await closeAll(clients);
    await server?.dispose();
  });

  it('serves database test, refuses connections once stopped, comes back on start() and after kill -9, and is removed by dispose()', async () => {
    server = await startThrowawayPostgres();
    expect(server.port).toBeGreaterThanOrEqual(5440);
    expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/test`);

    const first = await connectTo(server.url, clients);
    expect((await first.query<{ db: string }>('SELECT current_database() AS db')).rows).toEqual([{ db: 'test' }]);
    await first.query('CREATE TABLE kept (id int PRIMARY KEY)');
    await first.query('INSERT INTO kept VALUES (1)');

    const dropped = nextEvent<[Error]>(first, 'error', 10_000);
    await server.stop('immediate');
    expect((await dropped)[0]).toHaveProperty('message');
    await expect(connectTo(server.url, clients)).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    await server.start();
    const second = await connectTo(server.url, clients);
    expect((await second.query<{ id: number }>('SELECT id FROM kept')).rows).toEqual([{ id: 1 }]);

    const killed = nextEvent<[Error]>(second, 'error', 10_000);
    await server.kill();
    await killed;
    await expect(connectTo(server.url, clients)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await server.start(); // crash recovery
    const third = await connectTo(server.url, clients);
    expect((await third.query<{ n: string }>('SELECT count(*) AS n FROM kept')).rows).toEqual([{ n: '1' }]);
    await closeAll(clients);

    await server.stop('fast');
    await server.start();
    await server.dispose();
    await server.dispose();
    expect(existsSync(server.dir)).toBe(false);
    expect(await isPortFree(server.port)).toBe(true);
  }, 60_000);

  it('gives two clusters started at once on the same first port different ports', async () => {
    const started = await Promise.allSettled([startThrowawayPostgres({ firstPort: 5470 }), startThrowawayPostgres({ firstPort: 5470 })]);
    const servers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    try {
      expect(started.filter((result) => result.status === 'rejected')).toEqual([]);
      const [a, b] = servers.map((one) => one.port);
      expect(a).not.toBe(b);
      expect(Math.min(a!, b!)).toBeGreaterThanOrEqual(5470);
    } finally {
      await Promise.all(servers.map((one) => one.dispose()));
    }
  }, 60_000);
});

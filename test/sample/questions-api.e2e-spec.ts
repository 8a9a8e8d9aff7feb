import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { eventually, MemoryTransport, type Envelope } from '@tidings/core';
import type { AddressInfo } from 'node:net';
import { QuestionsAppModule } from '../../apps/questions/src/questions-app.module.js';
import { dropSchemas, POSTGRES_URL, recordDeliveries } from '../typeorm/outbox-database.js';

// The questions service's HTTP contract (DESIGN §8) on the real PostgreSQL; events through the memory transport.

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

describe('questions service API', () => {
  const schema = `questions_${process.pid}_${Date.now().toString(36)}`;
  let app: INestApplication;
  let base: string;
  let events: Envelope[];

  const call = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<Reply> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const ask = (overrides: Record<string, unknown> = {}) =>
    call('POST', '/questions', {
      title: 'Why is the sky blue?',
      body: 'Asking for a friend',
      subject: 'physics',
      grade: 7,
      authorId: 'ana',
      ...overrides,
    });

  beforeAll(async () => {
    const transport = new MemoryTransport();
    app = await NestFactory.create(
      QuestionsAppModule.forRoot(
        { port: 0, databaseUrl: POSTGRES_URL, schema, rabbitMqUrl: 'unused', exchange: 'unused', namespace: '', maxOutboxBacklog: 10_000 },
        { transport },
      ),
      { logger: false },
    );
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    events = await recordDeliveries(transport, 'questions-api.events', ['qa.#']);
  });

  afterAll(async () => {
    await app.close();
    await dropSchemas([schema]);
  });

  it('asks, answers and accepts, committing each change with its event, in order per question', async () => {
    const asked = await ask();
    expect(asked.status).toBe(201);
    expect(asked.body).toMatchObject({
      title: 'Why is the sky blue?',
      subject: 'physics',
      grade: 7,
      authorId: 'ana',
      acceptedAnswerId: null,
    });
    const id = asked.body['id'] as string;

    const answered = await call('POST', `/questions/${id}/answers`, { body: 'Rayleigh scattering', authorId: 'ben' });
    expect(answered.status).toBe(201);
    expect(answered.body).toMatchObject({ questionId: id, body: 'Rayleigh scattering', authorId: 'ben' });
    const answerId = answered.body['id'] as string;

    const accepted = await call('POST', `/questions/${id}/answers/${answerId}/accept`);
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ id, acceptedAnswerId: answerId });
    expect((await call('POST', `/questions/${id}/answers/${answerId}/accept`)).status).toBe(200); // again: no change

    const read = await call('GET', `/questions/${id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id, acceptedAnswerId: answerId, answers: [{ id: answerId, body: 'Rayleigh scattering' }] });

    await eventually(() => expect(events.filter((e) => e.partitionkey === id)).toHaveLength(3));
    const mine = events.filter((e) => e.partitionkey === id);
    expect(mine.map((e) => e.type)).toEqual(['qa.question.asked', 'qa.answer.added', 'qa.answer.accepted']);
    expect(mine.map((e) => e.source)).toEqual(['questions', 'questions', 'questions']);
    expect(mine[0]?.data).toEqual({
      questionId: id,
      title: 'Why is the sky blue?',
      body: 'Asking for a friend',
      subject: 'physics',
      grade: 7,
      authorId: 'ana',
      askedAt: asked.body['askedAt'],
    });
    expect(mine[1]?.data).toMatchObject({ answerId, questionId: id, authorId: 'ben', addedAt: answered.body['addedAt'] });
    expect(mine[2]?.data).toMatchObject({ questionId: id, answerId });
  });

  it('answers 400 naming every field that is wrong, and stores nothing', async () => {
    const before = events.length;
    const bad = await ask({ title: '', grade: 13, authorId: undefined, extra: true });
    expect(bad.status).toBe(400);
    const messages = bad.body['message'] as string[];
    expect(messages).toEqual(
      expect.arrayContaining([
        'title: must not be empty',
        'grade: must be a whole number from 1 to 12',
        'authorId: is required',
        expect.stringMatching(/^body: Unrecognized key.*extra/),
      ]),
    );
    expect((await ask({ grade: '7' })).body['message']).toEqual(['grade: must be a whole number from 1 to 12']);
    const { body: question } = await ask();
    const noAuthor = await call('POST', `/questions/${question['id'] as string}/answers`, { body: 'x' });
    expect(noAuthor.status).toBe(400);
    expect(noAuthor.body['message']).toEqual(['authorId: is required']);
    await eventually(() => expect(events.length).toBe(before + 1)); // only the valid question's event
  });

  it('answers 404 for unknown questions and answers, and 409 for accepting a second answer', async () => {
    const unknown = globalThis.crypto.randomUUID();
    expect((await call('GET', `/questions/${unknown}`)).status).toBe(404);
    expect((await call('GET', '/questions/not-a-uuid')).status).toBe(404);
    const orphan = await call('POST', `/questions/${unknown}/answers`, { body: 'lost', authorId: 'ben' });
    expect(orphan.status).toBe(404);
    expect(orphan.body['message']).toBe(`Question ${unknown} does not exist`);

    const { body: question } = await ask();
    const id = question['id'] as string;
    expect((await call('POST', `/questions/${id}/answers/${unknown}/accept`)).status).toBe(404);
    const first = (await call('POST', `/questions/${id}/answers`, { body: 'one', authorId: 'ben' })).body['id'] as string;
    const second = (await call('POST', `/questions/${id}/answers`, { body: 'two', authorId: 'cleo' })).body['id'] as string;
    expect((await call('POST', `/questions/${id}/answers/${first}/accept`)).status).toBe(200);
    const conflict = await call('POST', `/questions/${id}/answers/${second}/accept`);
    expect(conflict.status).toBe(409);
    expect(conflict.body['message']).toBe(`Question ${id} already accepted answer ${first}`);
    await eventually(() =>
      expect(events.filter((e) => e.partitionkey === id).map((e) => e.type)).toEqual([
        'qa.question.asked',
        'qa.answer.added',
        'qa.answer.added',
        'qa.answer.accepted',
      ]),
    );
    expect(events.some((e) => e.partitionkey === unknown)).toBe(false);
  });
});

import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEnveloper, EventTypeRegistry, MemoryTransport, type Envelope } from '@tidings/core';
import { Projections } from '@tidings/nestjs';
import type { AddressInfo } from 'node:net';
import { FeedAppModule } from '../../apps/feed/src/feed-app.module.js';
import type { FeedItem } from '../../apps/feed/src/projection/feed-item.js';
import { AnswerAccepted, AnswerAdded, QuestionAsked } from '../../apps/qa-events/src/index.js';
import { POSTGRES_URL } from '../typeorm/outbox-database.js';
import { readWholeFeed } from './feed-pages.js';

// The feed service on the real PostgreSQL (a schema of its own per app), projecting the memory transport's event log.

let counter = 0;

/** A running feed service and the transport its events come through. */
export interface FeedApp {
  readonly app: INestApplication;
  readonly base: string;
  readonly schema: string;
  readonly transport: MemoryTransport;
  /** Publishes the envelopes as the questions service would, and waits until the feed has applied all of them. */
  deliver(envelopes: readonly Envelope[]): Promise<void>;
  /** GET a path of the service; the JSON body. */
  get<T = Record<string, unknown>>(path: string): Promise<{ status: number; body: T }>;
  /** Every listed item, through the pages of `GET /feed` with the given filters. */
  all(query?: string, limit?: number): Promise<FeedItem[]>;
  close(): Promise<void>;
}

export type { FeedPageBody } from './feed-pages.js';

/** Starts a feed service on a new schema; drop it with `dropSchemas` when done. */
export async function startFeed(): Promise<FeedApp> {
  const schema = `feed_${process.pid}_${Date.now().toString(36)}_${++counter}`;
  const transport = new MemoryTransport();
  const app = await NestFactory.create(
    FeedAppModule.forRoot(
      { port: 0, databaseUrl: POSTGRES_URL, schema, rabbitMqUrl: 'unused', exchange: 'unused', namespace: '' },
      { transport },
    ),
    { logger: false },
  );
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const get = async <T>(path: string) => {
    const response = await fetch(`${base}${path}`);
    return { status: response.status, body: (await response.json()) as T };
  };
  return {
    app,
    base,
    schema,
    transport,
    get,
    deliver: async (envelopes) => {
      await transport.publish(envelopes);
      const projections = app.get(Projections);
      await projections.whenCaughtUp('feed', 10_000);
      // Every event was applied: the projection skipped none.
      expect(await projections.skipped('feed')).toEqual([]);
    },
    all: (query, limit) => readWholeFeed(base, query, limit),
    close: () => app.close(),
  };
}

const enveloper = new EventEnveloper('questions', new EventTypeRegistry());

/** The envelope the questions service would publish for `event` (partitioned by question); `id` to repeat one. */
export function envelope(event: QuestionAsked | AnswerAdded | AnswerAccepted, id?: string): Envelope {
  return enveloper.wrap(event, { partitionKey: event.questionId, subject: event.questionId, ...(id !== undefined && { id }) })[0]!;
}

const T0 = Date.parse('2031-03-01T08:00:00.000Z');
/** A time `minutes` after the start of the tests' timeline, as events carry it. */
export const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();

export const id = (): string => globalThis.crypto.randomUUID();

export const asked = (questionId: string, subject: string, grade: number, askedAt: string, title = `Question ${questionId.slice(0, 8)}`) =>
  new QuestionAsked(questionId, title, 'What do you think?', subject, grade, 'asker', askedAt);

export const added = (questionId: string, answerId: string, addedAt: string) =>
  new AnswerAdded(answerId, questionId, 'An answer', 'helper', addedAt);

export const accepted = (questionId: string, answerId: string, acceptedAt: string) => new AnswerAccepted(questionId, answerId, acceptedAt);

/** The feed's order: newest first, ties by question id, highest first (byte order, as the ids are ASCII). */
export const newestFirst = (a: FeedItem, b: FeedItem): number =>
  a.askedAt !== b.askedAt ? (a.askedAt < b.askedAt ? 1 : -1) : a.questionId < b.questionId ? 1 : a.questionId > b.questionId ? -1 : 0;

import 'reflect-metadata';
import { existsSync } from 'node:fs';
import {
  ConfigurationError,
  ErrorClassifier,
  EventEnveloper,
  EventTypeRegistry,
  type Envelope,
  type EventClass,
  type ProjectionDefinition,
  type ProjectionHandler,
} from '@tidings/core';
import { findProjectionMetadata, ON_EVENT_BATCH_METADATA, ON_EVENT_METADATA, type OnEventMetadata } from '@tidings/nestjs';
import type { TypeOrmProjectionTx } from '@tidings/typeorm';

/**
 * The Q&A sample's feed projection, as the bench uses it: the app's own compiled classes (`apps/dist`, built by
 * `npm run build`, which `npm run bench` runs first), loaded at run time. bench/ compiles on its own (rootDir bench/)
 * and its output sits one directory deeper than its sources, so no static import path reaches apps/ from both; the
 * shapes below are the little the bench needs of those classes.
 */
const APPS_DIST = new URL('../../../apps/dist/', import.meta.url); // from bench/dist/projection/

type Method = (...args: unknown[]) => unknown;

interface FeedProjectionModule {
  readonly FeedProjection: new (writes: object, batchWrites: object, changes: object) => object;
}
interface FeedWritesModule {
  readonly FeedWrites: new () => object;
}
interface FeedBatchWritesModule {
  readonly FeedBatchWrites: new () => object;
}
/** The feed's in-process hub of committed changes, which `GET /feed/stream` relays to browsers. */
export interface FeedChanges {
  readonly items$: { subscribe(next: (item: unknown) => void): { unsubscribe(): void } };
}
interface FeedChangesModule {
  readonly FeedChanges: new () => FeedChanges;
}
interface QaEventsModule {
  readonly QuestionAsked: new (
    questionId: string,
    title: string,
    body: string,
    subject: string,
    grade: number,
    authorId: string,
    askedAt: string,
  ) => object;
  readonly AnswerAdded: new (answerId: string, questionId: string, body: string, authorId: string, addedAt: string) => object;
  readonly AnswerAccepted: new (questionId: string, answerId: string, acceptedAt: string) => object;
}

async function load<T>(path: string): Promise<T> {
  const url = new URL(path, APPS_DIST);
  if (!existsSync(url)) throw new Error(`${url.pathname} is missing: run npm run build (npm run bench does) first`);
  return (await import(url.href)) as T;
}

/** The feed projection's definition for the core, and the sample's event classes. */
export interface FeedApp {
  readonly definition: ProjectionDefinition<TypeOrmProjectionTx>;
  readonly events: QaEventsModule;
  /** Where the projection announces the items it changed, once committed. */
  readonly changes: FeedChanges;
}

/**
 * Instantiates the feed projection by hand (FeedWrites, FeedBatchWrites, FeedChanges, FeedProjection: what Nest's
 * injector would do) and turns it into a projection definition the way `@tidings/nestjs`'s ProjectionExplorer does:
 * its `@OnEvent` methods become handlers, its `@OnEventBatch` method `applyBatch`, its `@Projection` options the
 * classifier. No Nest application: the bench measures the core's rebuild, not Nest's startup.
 */
export async function loadFeedApp(): Promise<FeedApp> {
  const [{ FeedProjection }, { FeedWrites }, { FeedBatchWrites }, { FeedChanges }, events] = await Promise.all([
    load<FeedProjectionModule>('feed/src/projection/feed.projection.js'),
    load<FeedWritesModule>('feed/src/projection/feed.writes.js'),
    load<FeedBatchWritesModule>('feed/src/projection/feed.batch-writes.js'),
    load<FeedChangesModule>('feed/src/projection/feed-changes.js'),
    load<QaEventsModule>('qa-events/src/index.js'),
  ]);
  const changes = new FeedChanges();
  const instance = new FeedProjection(new FeedWrites(), new FeedBatchWrites(), changes);
  const metadata = findProjectionMetadata(FeedProjection);
  if (!metadata) throw new Error('FeedProjection has no @Projection metadata');
  const registry = new EventTypeRegistry();
  const methods = instance as Record<string, unknown>;
  const handlers: ProjectionHandler<TypeOrmProjectionTx>[] = [];
  let applyBatch: Method | undefined;
  for (const name of Object.getOwnPropertyNames(FeedProjection.prototype)) {
    const method = methods[name];
    if (name === 'constructor' || typeof method !== 'function') continue;
    if (Reflect.getMetadata(ON_EVENT_BATCH_METADATA, method)) applyBatch = (method as Method).bind(instance);
    const onEvent = Reflect.getMetadata(ON_EVENT_METADATA, method) as OnEventMetadata | undefined;
    if (!onEvent) continue;
    if (typeof onEvent.event !== 'function') throw new ConfigurationError(`FeedProjection.${name} handles a pattern`, 'Unexpected.');
    const handle = (method as Method).bind(instance);
    handlers.push({ name: `FeedProjection.${name}`, event: registry.register(onEvent.event as EventClass), handle });
  }
  const createReadModel = methods['createReadModel'] as (tx: TypeOrmProjectionTx) => Promise<void>;
  const { options } = metadata;
  const definition: ProjectionDefinition<TypeOrmProjectionTx> = {
    name: metadata.name,
    handlers,
    createReadModel: (tx) => createReadModel.call(instance, tx),
    classifier: new ErrorClassifier({ deadLetterOn: options.skipOn ?? [], retryOn: options.retryOn ?? [] }),
    ...(applyBatch && { applyBatch }),
  };
  if (handlers.length !== 3 || !applyBatch) throw new Error(`expected 3 @OnEvent methods and an @OnEventBatch in FeedProjection`);
  return { definition, events, changes };
}

/** How many of each kind a prefix of the history holds: what the feed built from it must show. */
export interface FeedExpectation {
  readonly questions: number;
  readonly answers: number;
  readonly accepted: number;
}

/** A Q&A history: the envelopes the questions service would publish, and what the feed of any prefix of it holds. */
export interface QaHistory {
  readonly envelopes: readonly Envelope[];
  expected(prefix: number): FeedExpectation;
}

const SUBJECTS = ['math', 'physics', 'history', 'biology'];
const T0 = Date.parse('2033-01-01T00:00:00.000Z');
const QUESTION_BODY = 'How would you explain this step by step? '.repeat(8).trim();
const ANSWER_BODY = 'Start from the definition, then work through an example and check the result. '.repeat(4).trim();

/** mulberry32: the same history for the same seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` events in the proportions of the e2e tests' QaStory (test/sample/qa-story.ts): about a quarter questions,
 * 60 % answers to random earlier questions, the rest acceptances of an answer of a question not accepted yet; one
 * millisecond apart; each envelope as the questions service wraps it (partition key and subject: the question).
 * Answers always follow their question, so the feed has no placeholders.
 */
export function qaHistory(events: QaEventsModule, count: number, label: string, seed = 6): QaHistory {
  const random = seeded(seed);
  const enveloper = new EventEnveloper('questions', new EventTypeRegistry());
  interface Question {
    readonly id: string;
    answers: number;
  }
  const questions: Question[] = [];
  const open: Question[] = []; // answered, none accepted
  const kinds: Array<'asked' | 'added' | 'accepted'> = [];
  const envelopes: Envelope[] = [];
  const wrap = (event: object, questionId: string): void => {
    envelopes.push(enveloper.wrap(event, { partitionKey: questionId, subject: questionId })[0] as Envelope);
  };
  for (let i = 0; i < count; i++) {
    const roll = random();
    const at = new Date(T0 + i).toISOString();
    if (questions.length === 0 || roll < 0.25) {
      const question: Question = { id: `${label}-q${String(questions.length + 1).padStart(6, '0')}`, answers: 0 };
      questions.push(question);
      const subject = SUBJECTS[Math.floor(random() * SUBJECTS.length)] as string;
      const grade = 1 + Math.floor(random() * 12);
      wrap(new events.QuestionAsked(question.id, `Question ${question.id}`, QUESTION_BODY, subject, grade, 'asker', at), question.id);
      kinds.push('asked');
    } else if (roll < 0.85 || open.length === 0) {
      const question = questions[Math.floor(random() * questions.length)] as Question;
      if (question.answers++ === 0) open.push(question); // its first answer: it can be accepted from now on
      wrap(new events.AnswerAdded(`${question.id}-a${question.answers}`, question.id, ANSWER_BODY, 'helper', at), question.id);
      kinds.push('added');
    } else {
      const index = Math.floor(random() * open.length);
      const question = open[index] as Question;
      open[index] = open[open.length - 1] as Question;
      open.pop();
      const answer = 1 + Math.floor(random() * question.answers);
      wrap(new events.AnswerAccepted(question.id, `${question.id}-a${answer}`, at), question.id);
      kinds.push('accepted');
    }
  }
  return {
    envelopes,
    expected(prefix) {
      const counts = { asked: 0, added: 0, accepted: 0 };
      for (const kind of kinds.slice(0, prefix)) counts[kind]++;
      return { questions: counts.asked, answers: counts.added, accepted: counts.accepted };
    },
  };
}

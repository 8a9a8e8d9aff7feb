import type { Envelope } from '@tidings/core';
import { Projections } from '@tidings/nestjs';
import { FeedChanges } from '../../apps/feed/src/projection/feed-changes.js';
import type { FeedItem } from '../../apps/feed/src/projection/feed-item.js';
import { DataSource } from 'typeorm';
import { dropSchemas, POSTGRES_URL } from '../typeorm/outbox-database.js';
import { accepted, added, asked, at, envelope, id, startFeed, type FeedApp } from './feed.fixture.js';
import { seededRandom } from '../support/seeded-random.js';

// The projection is idempotent and order-independent by construction, not only through its checkpoint and applied ids.

/** Every ordering of `items`. */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

/** Merges the sequences at random, keeping the order within each. */
function interleave<T>(sequences: readonly T[][], next: () => number): T[] {
  const queues = sequences.map((s) => [...s]).filter((s) => s.length > 0);
  const merged: T[] = [];
  while (queues.length > 0) {
    const i = Math.floor(next() * queues.length);
    merged.push(queues[i]!.shift()!);
    if (queues[i]!.length === 0) queues.splice(i, 1);
  }
  return merged;
}

describe('feed projection', () => {
  const started: FeedApp[] = [];
  let admin: DataSource;

  beforeAll(async () => {
    admin = new DataSource({ type: 'postgres', url: POSTGRES_URL });
    await admin.initialize();
  });
  afterAll(async () => {
    await Promise.all(started.map((feed) => feed.close()));
    await admin.destroy();
    await dropSchemas(started.map((feed) => feed.schema));
  });
  const start = async (): Promise<FeedApp> => {
    const feed = await startFeed();
    started.push(feed);
    return feed;
  };
  const table = (feed: FeedApp): Promise<unknown[]> => admin.query(`SELECT * FROM "${feed.schema}".feed_items ORDER BY question_id`);

  it('builds the same feed, row for row, whatever order each question’s events arrive in', async () => {
    const seed = Date.now();
    const next = seededRandom(seed);
    // Each question: asked, two answers, one accepted; 24 questions get the 24 orders of their four events.
    const story = (minute: number, subject: string) => {
      const [qid, first, second] = [id(), id(), id()];
      // The acceptance comes before the second answer, so lastActivityAt must be the second answer's time.
      return [asked(qid, subject, 1 + (minute % 12), at(minute)), added(qid, first, at(minute + 1)), accepted(qid, first, at(minute + 2))]
        .concat([added(qid, second, at(minute + 3))])
        .map((event) => envelope(event));
    };
    const stories = permutations([0, 1, 2, 3]).map((order, i) => {
      const events = story(i * 5, i % 3 === 0 ? 'physics' : 'history');
      return { events, shuffled: order.map((k) => events[k]!) };
    });
    // And questions never asked (answers only): placeholders, never listed.
    const orphans = [0, 1, 2].map((i) => {
      const qid = id();
      return [envelope(added(qid, id(), at(200 + i))), envelope(accepted(qid, id(), at(201 + i)))];
    });

    const inOrder = await start();
    for (const event of [...stories.flatMap((s) => s.events), ...orphans.flat()]) await inOrder.deliver([event]);
    const outOfOrder = await start();
    // All at once, so the handlers also run concurrently (ten at a time), interleaved across questions.
    await outOfOrder.deliver(interleave([...stories.map((s) => s.shuffled), ...orphans.map((o) => [...o].reverse())], next));

    const expected = await inOrder.all();
    expect(expected).toHaveLength(24);
    for (const item of expected) {
      const minute = (Date.parse(item.askedAt) - Date.parse(at(0))) / 60_000;
      expect(item).toMatchObject({ answerCount: 2, answered: true, lastActivityAt: at(minute + 3) });
      expect(item.acceptedAnswerId).toEqual(expect.any(String));
    }
    const message = `out of order (seed ${seed})`;
    expect({ message, feed: await outOfOrder.all() }).toEqual({ message, feed: expected });
    expect({ message, feed: await outOfOrder.all('subject=physics&answered=true', 3) }).toEqual({
      message,
      feed: expected.filter((item) => item.subject === 'physics'),
    });
    expect({ message, rows: await table(outOfOrder) }).toEqual({ message, rows: await table(inOrder) });
  });

  it('counts nothing twice: the projection applies an event id once, the feed itself the same fact under a new id', async () => {
    const feed = await start();
    const [qid, answer] = [id(), id()];
    const events: Envelope[] = [
      envelope(asked(qid, 'music', 4, at(0))),
      envelope(added(qid, answer, at(1))),
      envelope(accepted(qid, answer, at(2))),
    ];
    const applied = async (): Promise<number> =>
      Number((await admin.query(`SELECT count(*) AS n FROM "${feed.schema}".tidings_applied`))[0].n);
    await feed.deliver(events);
    const once = await feed.all();
    expect(once).toEqual([expect.objectContaining({ questionId: qid, answerCount: 1, acceptedAnswerId: answer, lastActivityAt: at(2) })]);
    expect(await applied()).toBe(3);

    // The same event ids again (a relay publishing twice after a crash): in the log twice, applied once.
    await feed.deliver(events.map((event) => ({ ...event })));
    expect(await applied()).toBe(3);
    expect(await feed.all()).toEqual(once);

    // The same facts republished under new ids (a producer retrying without its outbox, say): applied, and no effect.
    await feed.deliver([
      envelope(added(qid, answer, at(1))),
      envelope(asked(qid, 'music', 4, at(0), 'A title changed on the way')),
      envelope(accepted(qid, answer, at(2))),
    ]);
    expect(await applied()).toBe(6);
    expect(await feed.all()).toEqual(once);
    const answers: Array<{ n: string }> = await admin.query(`SELECT count(*) AS n FROM "${feed.schema}".feed_answers`);
    expect(answers).toEqual([{ n: '1' }]);
  });

  it('a rebuild announces nothing on the live stream (its rows are past states) and swaps in the same feed', async () => {
    const feed = await start();
    const [qid, answer] = [id(), id()];
    await feed.deliver([
      envelope(asked(qid, 'art', 9, at(0))),
      envelope(added(qid, answer, at(1))),
      envelope(accepted(qid, answer, at(2))),
    ]);
    const before = await feed.all();
    const announced: FeedItem[] = [];
    const subscription = feed.app.get(FeedChanges).items$.subscribe((item) => announced.push(item));
    try {
      const result = await feed.app.get(Projections).rebuild('feed');
      expect(result.entries).toBeGreaterThanOrEqual(3);
    } finally {
      subscription.unsubscribe();
    }
    expect(announced).toEqual([]);
    expect(await feed.all()).toEqual(before);
  });
});

import type { FeedItem } from '../../apps/feed/src/projection/feed-item.js';
import { accepted, added, asked, at, envelope, id, newestFirst, startFeed, type FeedApp, type FeedPageBody } from './feed.fixture.js';
import { dropSchemas } from '../typeorm/outbox-database.js';

// The feed's HTTP contract (DESIGN §8): GET /feed with filters and cursor pagination, 400s, the page at GET /.

describe('feed service API', () => {
  const started: FeedApp[] = [];
  let feed: FeedApp;

  beforeEach(async () => {
    feed = await startFeed();
    started.push(feed);
  });
  afterEach(() => feed.close());
  afterAll(() => dropSchemas(started.map((feed) => feed.schema)));

  const ids = (items: readonly FeedItem[]): string[] => items.map((item) => item.questionId);

  it('lists asked questions newest first with the contract fields, filtered by subject, grade and answered, alone and combined', async () => {
    const [p7, p8, c7, p7b, m3] = [id(), id(), id(), id(), id()];
    const [a1, a2, a3] = [id(), id(), id()];
    await feed.deliver(
      [
        asked(p7, 'physics', 7, at(1), 'Why is the sky blue?'),
        asked(p8, 'physics', 8, at(2)),
        asked(c7, 'chemistry', 7, at(3)),
        asked(p7b, 'physics', 7, at(4)),
        asked(m3, 'math', 3, at(5)),
        added(p7, a1, at(10)),
        added(p7, a2, at(11)),
        accepted(p7, a2, at(12)),
        added(c7, a3, at(13)),
      ].map((event) => envelope(event)),
    );

    const { status, body } = await feed.get<FeedPageBody>('/feed');
    expect(status).toBe(200);
    expect(ids(body.items)).toEqual([m3, p7b, c7, p8, p7]);
    expect(body.nextCursor).toBeNull();
    expect(body.items[4]).toEqual({
      questionId: p7,
      title: 'Why is the sky blue?',
      subject: 'physics',
      grade: 7,
      answerCount: 2,
      answered: true,
      acceptedAnswerId: a2,
      askedAt: at(1),
      lastActivityAt: at(12),
    });
    expect(body.items[0]).toMatchObject({ questionId: m3, answerCount: 0, answered: false, acceptedAnswerId: null, lastActivityAt: at(5) });
    expect(body.items[2]).toMatchObject({ questionId: c7, answerCount: 1, answered: true, acceptedAnswerId: null, lastActivityAt: at(13) });

    const list = async (query: string) => ids((await feed.get<FeedPageBody>(`/feed?${query}`)).body.items);
    expect(await list('subject=physics')).toEqual([p7b, p8, p7]);
    expect(await list('grade=7')).toEqual([p7b, c7, p7]);
    expect(await list('answered=true')).toEqual([c7, p7]);
    expect(await list('answered=false')).toEqual([m3, p7b, p8]);
    expect(await list('subject=physics&grade=7')).toEqual([p7b, p7]);
    expect(await list('subject=physics&answered=false')).toEqual([p7b, p8]);
    expect(await list('grade=7&answered=true')).toEqual([c7, p7]);
    expect(await list('subject=physics&grade=7&answered=true')).toEqual([p7]);
    expect(await list('subject=physics&grade=3')).toEqual([]);
    expect(await list('subject=biology')).toEqual([]);
    expect(await list('subject=&grade=&answered=')).toEqual([m3, p7b, c7, p8, p7]); // a form's empty fields filter nothing
  });

  it('walks every page with the cursor: newest first, ties by question id, no duplicates, no gaps, stable while questions arrive', async () => {
    // 42 questions, three asked in the same millisecond each time: the order must break ties the same way the cursor does.
    const questions = Array.from({ length: 42 }, (_, i) => asked(id(), i % 2 === 0 ? 'physics' : 'history', 5, at(Math.floor(i / 3))));
    await feed.deliver(questions.map((q) => envelope(q)));
    const expected = (await feed.all('', 100)).map((item) => item.questionId);
    expect(expected).toHaveLength(42);
    expect([...(await feed.all('', 100))].sort(newestFirst).map((item) => item.questionId)).toEqual(expected);

    for (const limit of [1, 5, 7, 41, 42]) expect(ids(await feed.all('', limit))).toEqual(expected);
    const physics = questions.filter((q) => q.subject === 'physics').map((q) => q.questionId);
    expect(ids(await feed.all('subject=physics', 4)).sort()).toEqual([...physics].sort());
    expect(ids(await feed.all('subject=physics', 4))).toEqual(expected.filter((qid) => physics.includes(qid)));

    // A page exactly full at the end has no next cursor (42 = 6 × 7).
    let cursor: string | null = null;
    const sizes: number[] = [];
    do {
      const page: { body: FeedPageBody } = await feed.get<FeedPageBody>(`/feed?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      sizes.push(page.body.items.length);
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(sizes).toEqual([7, 7, 7, 7, 7, 7]);

    // Keyset pagination: a question asked after page 1 was read neither shifts nor repeats the next pages.
    const first = (await feed.get<FeedPageBody>('/feed?limit=10')).body;
    await feed.deliver([envelope(asked(id(), 'physics', 5, at(100)))]);
    const second = (await feed.get<FeedPageBody>(`/feed?limit=10&cursor=${first.nextCursor}`)).body;
    expect([...ids(first.items), ...ids(second.items)]).toEqual(expected.slice(0, 20));
  });

  it('never lists a question whose answers arrived before it, until it is asked', async () => {
    const [qid, answer] = [id(), id()];
    await feed.deliver([envelope(added(qid, answer, at(20))), envelope(accepted(qid, answer, at(21)))]);
    expect(await feed.all()).toEqual([]);
    expect(await feed.all('answered=true')).toEqual([]);

    await feed.deliver([envelope(asked(qid, 'art', 2, at(19)))]);
    expect(await feed.all()).toEqual([
      expect.objectContaining({
        questionId: qid,
        answerCount: 1,
        answered: true,
        acceptedAnswerId: answer,
        askedAt: at(19),
        lastActivityAt: at(21),
      }),
    ]);
  });

  it('answers 400 naming every query parameter that is wrong, on the list and on the stream', async () => {
    const bad = await feed.get<{ message: string[] }>('/feed?grade=13&answered=maybe&limit=0&cursor=xyz&sort=old');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toEqual([
      'grade: must be a whole number from 1 to 12',
      'answered: must be true or false',
      'limit: must be a whole number from 1 to 100',
      'cursor: must be a nextCursor this feed returned',
      'query: Unrecognized key: "sort"',
    ]);
    expect((await feed.get<{ message: string[] }>('/feed?limit=101')).body.message).toEqual([
      'limit: must be a whole number from 1 to 100',
    ]);
    expect((await feed.get<{ message: string[] }>('/feed?grade=1&grade=2')).body.message).toEqual(['grade: must be given once']);

    const stream = await fetch(`${feed.base}/feed/stream?grade=0`);
    expect(stream.status).toBe(400);
    expect(((await stream.json()) as { message: string[] }).message).toEqual(['grade: must be a whole number from 1 to 12']);
  });

  it('serves the live page at / as self-contained HTML', async () => {
    const response = await fetch(`${feed.base}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'sha256-[^']+'/);
    const html = await response.text();
    expect(html).toContain('data-testid="feed-list"');
    expect(html).toContain("new EventSource('/feed/stream?'");
  });
});

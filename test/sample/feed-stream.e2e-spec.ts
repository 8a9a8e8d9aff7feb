import { eventually } from '@tidings/core';
import { Agent, get, type Server } from 'node:http';
import type { FeedItem } from '../../apps/feed/src/projection/feed-item.js';
import { added, asked, at, envelope, id, startFeed, type FeedApp, type FeedPageBody } from './feed.fixture.js';
import { dropSchemas } from '../typeorm/outbox-database.js';

// GET /feed/stream: server-sent events of committed changes, filtered like GET /feed.

interface ServerSentEvent {
  readonly event: string;
  readonly data: FeedItem;
}

/** An open event stream, read as it arrives (with fetch, as any HTTP client can). */
interface OpenStream {
  readonly events: ServerSentEvent[];
  readonly ended: Promise<void>;
  close(): void;
}

/** Reads server-sent events from a text stream into `events` until it ends. */
async function readEvents(chunks: AsyncIterable<string>, events: ServerSentEvent[]): Promise<void> {
  let buffer = '';
  for await (const chunk of chunks) {
    buffer += chunk;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const lines = buffer.slice(0, end).split('\n');
      buffer = buffer.slice(end + 2);
      const field = (name: string) => lines.filter((line) => line.startsWith(`${name}: `)).map((line) => line.slice(name.length + 2));
      const data = field('data');
      if (data.length > 0) events.push({ event: field('event')[0] ?? 'message', data: JSON.parse(data.join('\n')) as FeedItem });
    }
  }
}

async function openStream(url: string): Promise<OpenStream> {
  const abort = new AbortController();
  const response = await fetch(url, { signal: abort.signal, headers: { accept: 'text/event-stream' } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const events: ServerSentEvent[] = [];
  const ended = readEvents(response.body!.pipeThrough(new TextDecoderStream()), events).catch((error: unknown) => {
    if (!abort.signal.aborted) throw error;
  });
  return { events, ended, close: () => abort.abort() };
}

/** A stream read through a keep-alive agent that, like a browser, keeps its idle connections open indefinitely. */
function openBrowserLikeStream(url: string, agent: Agent): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent, headers: { accept: 'text/event-stream' } }, (response) => {
      expect(response.statusCode).toBe(200);
      response.setEncoding('utf8');
      const events: ServerSentEvent[] = [];
      resolve({ events, ended: readEvents(response, events), close: () => request.destroy() });
    });
    request.on('error', reject);
  });
}

describe('feed stream', () => {
  const started: FeedApp[] = [];
  let feed: FeedApp;
  const streams: OpenStream[] = [];

  beforeEach(async () => {
    feed = await startFeed();
    started.push(feed);
  });
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close();
    await feed.close();
  });
  afterAll(() => dropSchemas(started.map((feed) => feed.schema)));

  const open = async (query = ''): Promise<OpenStream> => {
    const stream = await openStream(`${feed.base}/feed/stream${query}`);
    streams.push(stream);
    return stream;
  };
  const itemsOf = (stream: OpenStream, questionId?: string) =>
    stream.events.filter((e) => e.event === 'item' && (questionId === undefined || e.data.questionId === questionId)).map((e) => e.data);

  it('sends each committed change that passes the filters as an item event, and no placeholder', async () => {
    const everything = await open();
    const physics = await open('?subject=physics&grade=7');
    const [orphan, chemistry, question, answer] = [id(), id(), id(), id()];

    // Sent to nobody: the orphan answer leaves a placeholder, the chemistry question does not pass the filter.
    await feed.deliver([envelope(added(orphan, id(), at(1)))]);
    await feed.deliver([envelope(asked(chemistry, 'chemistry', 7, at(2)))]);
    await eventually(() => expect(itemsOf(everything, chemistry)).toHaveLength(1));

    await feed.deliver([envelope(asked(question, 'physics', 7, at(3), 'Why is the sky blue?'))]);
    const [first] = await eventually(() => {
      const items = itemsOf(physics);
      expect(items).toHaveLength(1);
      return items;
    });
    expect(first).toEqual({
      questionId: question,
      title: 'Why is the sky blue?',
      subject: 'physics',
      grade: 7,
      answerCount: 0,
      answered: false,
      acceptedAnswerId: null,
      askedAt: at(3),
      lastActivityAt: at(3),
    });
    // Announced after the commit: what the stream said is what the feed lists now.
    expect((await feed.get<FeedPageBody>('/feed?subject=physics')).body.items).toEqual([first]);

    await feed.deliver([envelope(added(question, answer, at(4)))]);
    await eventually(() => expect(itemsOf(physics)).toHaveLength(2));
    expect(itemsOf(physics)[1]).toEqual({ ...first, answerCount: 1, answered: true, lastActivityAt: at(4) });
    expect((await feed.get<FeedPageBody>('/feed?subject=physics')).body.items).toEqual([itemsOf(physics)[1]]);

    // Nothing else reached the filtered stream, and the placeholder reached no stream.
    expect(itemsOf(physics).map((item) => item.questionId)).toEqual([question, question]);
    await eventually(() => expect(itemsOf(everything, question)).toHaveLength(2));
    expect(itemsOf(everything).map((item) => item.questionId)).toEqual([chemistry, question, question]);
  });

  it('sends nothing for a change that changed nothing (an answer already counted)', async () => {
    const stream = await open('?answered=true');
    const [question, answer, later] = [id(), id(), id()];
    await feed.deliver([envelope(asked(question, 'art', 1, at(0))), envelope(added(question, answer, at(1)))]);
    await eventually(() => expect(itemsOf(stream)).toHaveLength(1));

    await feed.deliver([envelope(added(question, answer, at(1)))]); // same answer, new message id: no change
    await feed.deliver([envelope(added(question, later, at(2)))]);
    await eventually(() => expect(itemsOf(stream)).toHaveLength(2));
    expect(itemsOf(stream).map((item) => item.answerCount)).toEqual([1, 2]);
  });

  it('ends open streams when the application shuts down, and closes without waiting for the clients to hang up', async () => {
    // The server would otherwise keep each ended stream's connection until its keep-alive timeout, or the client's.
    (feed.app.getHttpServer() as Server).keepAliveTimeout = 600_000;
    const agent = new Agent({ keepAlive: true });
    const stream = await openBrowserLikeStream(`${feed.base}/feed/stream?subject=physics`, agent);
    const closing = feed.close();
    await stream.ended; // ended by the server, cleanly
    await closing;
    agent.destroy();
  });
});

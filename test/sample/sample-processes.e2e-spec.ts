import { eventually } from '@tidings/core';
import { QuestionsClient, type AddedAnswer, type AskedQuestion } from '../../apps/demo/src/questions-client.js';
import { RABBITMQ_URL } from '../rabbitmq/rabbitmq-conformance.target.js';
import { startNodeProcess, type NodeProcess } from '../support/node-process.js';
import { RabbitMqManagement } from '../support/rabbitmq-management.js';
import { dropSchemas, POSTGRES_URL } from '../typeorm/outbox-database.js';
import { seededRandom } from '../support/seeded-random.js';
import type { FeedItem } from '../../apps/feed/src/projection/feed-item.js';
import { readWholeFeed } from './feed-pages.js';

// The Q&A sample as it runs for real: three services in three processes (the built apps/dist), on the real RabbitMQ
// and PostgreSQL. Traffic goes in through the questions API only; the feed and the notifications must converge to
// exactly what that traffic implies, also after the feed process is killed with SIGKILL in the middle of a burst.

const SUBJECTS = ['math', 'physics', 'history', 'biology'];
const USERS = Array.from({ length: 20 }, (_, i) => `user-${i}`);
const FILTERS = ['', 'subject=math', 'grade=7', 'answered=true', 'answered=false&subject=physics', 'subject=history&grade=3&answered=true'];

interface Expected {
  readonly question: AskedQuestion;
  readonly answers: AddedAnswer[];
  accepted?: string;
}

/** What the test compares: everything of a feed item but its times, which the test does not predict. */
type FeedItemSeen = Omit<FeedItem, 'askedAt' | 'lastActivityAt'>;

async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

describe('Q&A sample: three services in three processes on RabbitMQ and PostgreSQL', () => {
  const run = `${process.pid}_${Date.now().toString(36)}`;
  const namespace = `t${run.replace('_', '-')}-`;
  const schemas = { questions: `e2e_${run}_questions`, feed: `e2e_${run}_feed`, notifications: `e2e_${run}_notifications` };
  const seed = Date.now() % 100_000;
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const expected = new Map<string, Expected>();
  const processes: NodeProcess[] = [];
  const urls: Record<'questions' | 'feed' | 'notifications', string> = { questions: '', feed: '', notifications: '' };
  let feed: NodeProcess;
  let client: QuestionsClient;

  const common = {
    NO_COLOR: '1',
    DATABASE_URL: POSTGRES_URL,
    RABBITMQ_URL,
    RABBITMQ_EXCHANGE: `${namespace}events`,
    TIDINGS_NAMESPACE: namespace,
  };
  const start = async (service: keyof typeof urls, env: Record<string, string>): Promise<NodeProcess> => {
    const child = startNodeProcess(`apps/dist/${service}/src/main.js`, { ...common, ...env });
    processes.push(child);
    const line = await child.waitForLine(/service on (http:\/\/\S+)/, 60_000);
    urls[service] = /service on (http:\/\/\S+)/.exec(line)?.[1] ?? '';
    return child;
  };
  const startFeed = () => start('feed', { FEED_PORT: '0', FEED_SCHEMA: schemas.feed });

  /** Asks, answers and accepts through the API, recording what the read models must end up showing. */
  const traffic = async (questions: number, answers: number, onProgress: (done: number) => void = () => undefined): Promise<void> => {
    const asked: AskedQuestion[] = [];
    let done = 0;
    await inParallel(Array.from({ length: questions }), 16, async () => {
      const question = await client.ask({
        title: `Question ${asked.length} of run ${run}`,
        body: 'Explain, please.',
        subject: pick(SUBJECTS),
        grade: 1 + Math.floor(random() * 12),
        authorId: pick(USERS),
      });
      asked.push(question);
      expected.set(question.id, { question, answers: [] });
      onProgress(++done);
    });
    await inParallel(Array.from({ length: answers }), 16, async () => {
      const target = expected.get(pick(asked).id) as Expected;
      // One answer in ten is the asker's own: no notification for it.
      const author = random() < 0.1 ? target.question.authorId : pick(USERS);
      target.answers.push(await client.answer(target.question.id, 'Because.', author));
      onProgress(++done);
    });
    const acceptable = asked.map((q) => expected.get(q.id) as Expected).filter((e) => e.answers.length > 0 && random() < 0.3);
    await inParallel(acceptable, 16, async (entry) => {
      const answer = entry.answers[0] as AddedAnswer;
      await client.accept(entry.question.id, answer.id);
      entry.accepted = answer.id;
    });
  };

  const expectedItems = (query: string): FeedItemSeen[] => {
    const filter = new URLSearchParams(query);
    return [...expected.values()]
      .filter(({ question, answers }) => {
        const subject = filter.get('subject');
        const grade = filter.get('grade');
        const answered = filter.get('answered');
        return (
          (subject === null || question.subject === subject) &&
          (grade === null || question.grade === Number(grade)) &&
          (answered === null || answers.length > 0 === (answered === 'true'))
        );
      })
      .sort((a, b) =>
        a.question.askedAt === b.question.askedAt
          ? b.question.id.localeCompare(a.question.id)
          : b.question.askedAt.localeCompare(a.question.askedAt),
      )
      .map(({ question, answers, accepted }) => ({
        questionId: question.id,
        title: question.title,
        subject: question.subject,
        grade: question.grade,
        answerCount: answers.length,
        answered: answers.length > 0,
        acceptedAnswerId: accepted ?? null,
      }));
  };
  const expectFeedConverged = async (): Promise<void> => {
    for (const query of FILTERS) {
      const want = expectedItems(query);
      await eventually(
        async () => {
          const seen = (await readWholeFeed(urls.feed, query)).map(
            ({ questionId, title, subject, grade, answerCount, answered, acceptedAnswerId }) => ({
              questionId,
              title,
              subject,
              grade,
              answerCount,
              answered,
              acceptedAnswerId,
            }),
          );
          expect(seen).toEqual(want);
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
    }
  };
  const expectNotificationsConverged = async (): Promise<void> => {
    const want = new Map<string, string[]>(USERS.map((user) => [user, []]));
    for (const { question, answers } of expected.values()) {
      for (const answer of answers) if (answer.authorId !== question.authorId) want.get(question.authorId)?.push(answer.id);
    }
    await eventually(
      async () => {
        for (const user of USERS) {
          const response = await fetch(`${urls.notifications}/notifications?userId=${user}`);
          const { items } = (await response.json()) as { items: { answerId: string }[] };
          expect(items.map((i) => i.answerId).sort()).toEqual([...(want.get(user) ?? [])].sort());
        }
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  };

  beforeAll(async () => {
    // The consumers first, so their queues exist before the first event is published.
    feed = await startFeed();
    await start('notifications', {
      NOTIFICATIONS_PORT: '0',
      NOTIFICATIONS_SCHEMA: schemas.notifications,
      // A flaky provider: every answer still ends notified, through retries on the real retry queues.
      NOTIFY_FAILURE_RATE: '0.1',
      NOTIFY_MAX_ATTEMPTS: '10',
      NOTIFY_RETRY_DELAY_MS: '100',
    });
    await start('questions', { QUESTIONS_PORT: '0', QUESTIONS_SCHEMA: schemas.questions });
    client = new QuestionsClient(urls.questions);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(processes.map((child) => child.kill('SIGTERM')));
    await new RabbitMqManagement().deleteByPrefix(namespace);
    await dropSchemas(Object.values(schemas));
  }, 60_000);

  it(`converges exactly after 200 questions and 400 answers posted concurrently (seed ${seed})`, async () => {
    await traffic(200, 400);
    await expectFeedConverged();
    await expectNotificationsConverged();
    for (const url of Object.values(urls)) expect((await fetch(`${url}/health`)).status).toBe(200);
  }, 180_000);

  it('converges exactly again after the feed process is SIGKILLed in the middle of a burst and restarted', async () => {
    let killed: Promise<void> | undefined;
    await traffic(100, 200, (done) => {
      if (done === 60) killed = feed.kill('SIGKILL');
    });
    await killed;
    expect(await feed.exited).toBe('SIGKILL');
    feed = await startFeed();
    await expectFeedConverged();
    await expectNotificationsConverged();
    const metrics = await (await fetch(`${urls.feed}/metrics`)).text();
    // The restarted process read on from the checkpoint the killed one committed last, and applied the rest.
    expect(metrics).toMatch(/tidings_projection_entries_total\{projection="feed",copy="live"\} [1-9]\d*/);
    expect(metrics).toMatch(/tidings_projection_position\{projection="feed",copy="live"\} [1-9]\d*/);
  }, 180_000);
});

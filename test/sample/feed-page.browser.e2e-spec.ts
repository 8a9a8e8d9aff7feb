import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { eventually } from '@tidings/core';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import type { FeedConfig } from '../../apps/feed/src/config/feed.config.js';
import { FeedAppModule } from '../../apps/feed/src/feed-app.module.js';
import type { FeedItem } from '../../apps/feed/src/projection/feed-item.js';
import type { QuestionsConfig } from '../../apps/questions/src/config/questions.config.js';
import { QuestionsAppModule } from '../../apps/questions/src/questions-app.module.js';
import { RABBITMQ_URL } from '../rabbitmq/rabbitmq-conformance.target.js';
import { RabbitMqManagement } from '../support/rabbitmq-management.js';
import { dropSchemas, POSTGRES_URL } from '../typeorm/outbox-database.js';

// The live feed page in a real browser (Debian's chromium, headless, driven by playwright-core): the questions and
// feed services run in this process on the real RabbitMQ and PostgreSQL, in a namespace, an exchange and schemas of
// their own (deleted at the end). What is asked, answered and accepted through the questions API shows up on the page
// without a reload; the filters drop what no longer matches. The last test saves docs/images/feed-page.png.

const CHROMIUM = '/usr/bin/chromium';
/** Chromium's own traffic to Google's services (updates, sync, field trials) off: the machines have no internet. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const WAIT_MS = 60_000;
// The picture in docs/sample.md is refreshed on request only (TIDINGS_UPDATE_DOCS=1 npm run test:e2e -- feed-page), so an
// ordinary run does not leave a modified file behind; it still takes the screenshot and checks it.
const SCREENSHOT = new URL(
  process.env['TIDINGS_UPDATE_DOCS'] === '1' ? '../../docs/images/feed-page.png' : '../../.tmp/feed-page.png',
  import.meta.url,
);

const namespace = `t${process.pid}-${Date.now().toString(36)}-`;
const exchange = `${namespace}events`;
const questionsSchema = `questions_page_${process.pid}_${Date.now().toString(36)}`;
const feedSchema = `feed_page_${process.pid}_${Date.now().toString(36)}`;

interface Question {
  readonly id: string;
  readonly title: string;
  readonly subject: string;
  readonly grade: number;
}

/** The page's globals that tell a reload apart: a fresh document has none of them. */
type Marked = typeof globalThis & { __marker?: number };

describe('feed page in a browser', () => {
  let questions: INestApplication;
  let feed: INestApplication;
  let questionsBase: string;
  let feedBase: string;
  let browser: Browser;
  let context: BrowserContext;
  /** Errors the pages reported (script errors, failed loads, Content-Security-Policy violations): none expected. */
  const pageErrors: string[] = [];

  const start = async (app: INestApplication): Promise<string> => {
    await app.listen(0, '127.0.0.1');
    return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  };
  const post = async <T>(path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${questionsBase}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const reply = (await response.json()) as T;
    if (!response.ok) throw new Error(`POST ${path} answered ${response.status}: ${JSON.stringify(reply)}`);
    return reply;
  };
  const ask = async (title: string, subject: string, grade: number): Promise<Question> => {
    const { id } = await post<{ id: string }>('/questions', { title, body: 'Details in the question.', subject, grade, authorId: 'ana' });
    return { id, title, subject, grade };
  };
  const answer = async (question: Question, authorId = 'ben'): Promise<string> =>
    (await post<{ id: string }>(`/questions/${question.id}/answers`, { body: 'Here is how I see it.', authorId })).id;
  const accept = (question: Question, answerId: string) => post(`/questions/${question.id}/answers/${answerId}/accept`);
  /** The feed's read model has the question (its event was handled), as `GET /feed` lists it. */
  const projected = (question: Question, answerCount = 0) =>
    eventually(
      async () => {
        const response = await fetch(`${feedBase}/feed?subject=${encodeURIComponent(question.subject)}&limit=100`);
        const { items } = (await response.json()) as { items: FeedItem[] };
        expect(items.find((item) => item.questionId === question.id)).toMatchObject({ answerCount });
      },
      { timeoutMs: WAIT_MS, intervalMs: 50 },
    );

  /** Opens the feed page and waits until its event stream is open. */
  const openFeed = async (): Promise<Page> => {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      // A failed load is recorded below with its address; the console's line about it has none.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
        pageErrors.push(`console: ${message.text()}`);
    });
    page.on('response', (response) => {
      // The page has no favicon, and Chromium asks for /favicon.ico on its own.
      if (response.status() >= 400 && new URL(response.url()).pathname !== '/favicon.ico')
        pageErrors.push(`${response.status()} ${response.request().method()} ${response.url()}`);
    });
    page.on('requestfailed', (request) => {
      if (!request.url().includes('/feed/stream')) pageErrors.push(`failed ${request.method()} ${request.url()}`);
    });
    const response = await page.goto(`${feedBase}/`);
    expect(response?.status()).toBe(200);
    const status = page.getByTestId('stream-status');
    await page.locator('[data-testid="stream-status"][data-state="live"]').waitFor();
    expect(await status.textContent()).toBe('Live');
    return page;
  };
  const item = (page: Page, question: Question): Locator => page.locator(`[data-testid="feed-item"][data-question-id="${question.id}"]`);
  const text = (row: Locator, testId: string): Promise<string | null> => row.getByTestId(testId).textContent();
  const mark = (page: Page) => page.evaluate(() => ((globalThis as Marked).__marker = 1));
  const marker = (page: Page) => page.evaluate(() => (globalThis as Marked).__marker);

  beforeAll(async () => {
    const connections = { databaseUrl: POSTGRES_URL, rabbitMqUrl: RABBITMQ_URL, exchange, namespace };
    const feedConfig: FeedConfig = { ...connections, port: 0, schema: feedSchema };
    const questionsConfig: QuestionsConfig = { ...connections, port: 0, schema: questionsSchema, maxOutboxBacklog: 10_000 };
    // The feed first: its queue is bound to the exchange before the first question is published.
    feed = await NestFactory.create(FeedAppModule.forRoot(feedConfig), { logger: false });
    feedBase = await start(feed);
    questions = await NestFactory.create(QuestionsAppModule.forRoot(questionsConfig), { logger: false });
    questionsBase = await start(questions);

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 900, height: 800 }, colorScheme: 'light', locale: 'en-US' });
    context.setDefaultTimeout(WAIT_MS);
  }, WAIT_MS);

  afterAll(async () => {
    await browser?.close();
    await questions?.close();
    await feed?.close();
    // Every queue of the namespace (the feed's, its retry tiers and dead-letter queue) and the exchange.
    await new RabbitMqManagement().deleteByPrefix(namespace);
    await dropSchemas([questionsSchema, feedSchema]);
  }, WAIT_MS);

  afterEach(() => {
    expect(pageErrors.splice(0)).toEqual([]);
  });

  it(
    'shows a question asked through the API without a reload, then its answer count and the accepted answer, live',
    async () => {
      const page = await openFeed();
      await mark(page);

      const question = await ask('Why does ice float on water?', 'physics', 8);
      const row = item(page, question);
      await row.waitFor();
      expect(await text(row, 'item-title')).toBe('Why does ice float on water?');
      expect(await text(row, 'item-subject')).toBe('physics');
      expect(await text(row, 'item-grade')).toBe('Grade 8');
      expect(await text(row, 'item-answer-count')).toBe('0');
      expect(await row.getAttribute('data-answered')).toBe('false');
      expect(await row.getByTestId('item-accepted').isHidden()).toBe(true);
      expect(await page.getByTestId('feed-item').count()).toBe(1);
      expect(await page.getByTestId('feed-empty').isHidden()).toBe(true);

      const answerId = await answer(question);
      await page.locator(`[data-question-id="${question.id}"][data-answer-count="1"]`).waitFor();
      expect(await text(row, 'item-answer-count')).toBe('1');
      expect(await row.locator('.count-label').textContent()).toBe('answer');
      expect(await row.getAttribute('data-answered')).toBe('true');
      expect(await row.getByTestId('item-accepted').isHidden()).toBe(true);

      await answer(question, 'cleo');
      await page.locator(`[data-question-id="${question.id}"][data-answer-count="2"]`).waitFor();
      expect(await row.locator('.count-label').textContent()).toBe('answers');

      await accept(question, answerId);
      await row.getByTestId('item-accepted').waitFor({ state: 'visible' });
      expect(await text(row, 'item-accepted')).toBe('\u2713 accepted');
      expect(await row.getAttribute('data-accepted-answer-id')).toBe(answerId);

      // The same document all along: every change came through the event stream, none through a reload.
      expect(await marker(page)).toBe(1);
      await page.close();
    },
    WAIT_MS,
  );

  it(
    'filters by subject and by answers, dropping items that stop matching and keeping those that match, live',
    async () => {
      const chemistry = await ask('What makes a reaction exothermic?', 'chemistry', 10);
      const history = await ask('What started the First World War?', 'history', 9);
      const page = await openFeed();
      await item(page, chemistry).waitFor();
      await item(page, history).waitFor();
      await mark(page);

      await page.getByTestId('filter-subject').fill('chemistry');
      await item(page, history).waitFor({ state: 'detached' });
      await page.locator('[data-testid="stream-status"][data-state="live"]').waitFor(); // the filtered stream is open
      await item(page, chemistry).waitFor();
      expect(await page.getByTestId('feed-item').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-question-id')))).toEqual([
        chemistry.id,
      ]);
      expect(new URL(page.url()).searchParams.get('subject')).toBe('chemistry');

      // Live, a question in another subject stays off the page: the feed had handled it before the chemistry one was
      // asked, so it would be on the page by the time the chemistry one is.
      const geography = await ask('Why do deserts get cold at night?', 'geography', 6);
      await projected(geography);
      const catalysts = await ask('How do catalysts speed up reactions?', 'chemistry', 11);
      await item(page, catalysts).waitFor();
      expect(await text(item(page, catalysts), 'item-title')).toBe('How do catalysts speed up reactions?');
      expect(await item(page, geography).count()).toBe(0);

      // Unanswered only: a question leaves the view when its first answer arrives.
      await page.getByTestId('filter-answered').selectOption('false');
      await page.locator('[data-testid="stream-status"][data-state="live"]').waitFor();
      await item(page, catalysts).waitFor();
      await item(page, chemistry).waitFor();
      await answer(catalysts);
      await item(page, catalysts).waitFor({ state: 'detached' });
      expect(await item(page, chemistry).count()).toBe(1);
      expect(new URL(page.url()).searchParams.get('answered')).toBe('false');

      expect(await marker(page)).toBe(1);
      await page.close();
    },
    WAIT_MS,
  );

  it(
    'shows a realistic feed: several subjects and grades, answered, unanswered and accepted (docs/images/feed-page.png)',
    async () => {
      const seeds: [title: string, subject: string, grade: number, answers: number, accepted: boolean][] = [
        ['How do I find the area of a trapezoid?', 'math', 6, 2, true],
        ['When should I use a semicolon instead of a comma?', 'english', 7, 1, false],
        ['What is the difference between weather and climate?', 'geography', 5, 0, false],
        ['How does photosynthesis store energy from sunlight?', 'biology', 9, 3, false],
        ['Why is dividing by zero undefined?', 'math', 8, 0, false],
      ];
      const seeded: { question: Question; answers: number; accepted: boolean }[] = [];
      for (const [title, subject, grade, answers, accepted] of seeds) {
        const question = await ask(title, subject, grade);
        const answerIds: string[] = [];
        for (let n = 0; n < answers; n++) answerIds.push(await answer(question, ['ben', 'cleo', 'dan'][n]));
        if (accepted) await accept(question, answerIds[0]!);
        seeded.push({ question, answers, accepted });
      }
      for (const { question, answers } of seeded) await projected(question, answers);

      const page = await openFeed();
      for (const { question, answers, accepted } of seeded) {
        const row = item(page, question);
        await page.locator(`[data-question-id="${question.id}"][data-answer-count="${answers}"]`).waitFor();
        expect(await text(row, 'item-title')).toBe(question.title);
        expect(await text(row, 'item-subject')).toBe(question.subject);
        expect(await text(row, 'item-grade')).toBe(`Grade ${question.grade}`);
        expect(await row.getByTestId('item-accepted').isVisible()).toBe(accepted);
      }
      // Newest first, as GET /feed lists them: the seeded questions on top, latest first, then those of earlier tests.
      const order = await page.getByTestId('feed-item').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-question-id')));
      expect(order.slice(0, seeded.length)).toEqual(seeded.map(({ question }) => question.id).reverse());
      const listed = (await (await fetch(`${feedBase}/feed?limit=100`)).json()) as { items: FeedItem[] };
      expect(order).toEqual(listed.items.map((listedItem) => listedItem.questionId));

      await mkdir(new URL('.', SCREENSHOT), { recursive: true });
      const png = await page.screenshot({ path: fileURLToPath(SCREENSHOT), fullPage: true, animations: 'disabled' });
      expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
      expect(png.readUInt32BE(16)).toBe(900); // the viewport's width: the whole page, not a blank crop
      await page.close();
    },
    WAIT_MS,
  );
});

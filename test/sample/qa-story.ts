import type { Envelope } from '@tidings/core';
import type { FeedItem } from '../../apps/feed/src/projection/feed-item.js';
import { accepted, added, asked, envelope, newestFirst } from './feed.fixture.js';

const SUBJECTS = ['math', 'physics', 'history', 'biology'];
const T0 = Date.parse('2032-01-01T00:00:00.000Z');

interface StoryQuestion {
  readonly id: string;
  readonly subject: string;
  readonly grade: number;
  readonly askedAt: string;
  readonly answers: string[];
  lastActivityAt: string;
  acceptedAnswerId: string | null;
}

/**
 * A Q&A history to publish, and the feed it must give: questions, answers to random earlier questions, acceptances.
 * Times advance one millisecond per event, so the expected feed is exact (newest first, last activity the latest event).
 */
export class QaStory {
  private readonly questions: StoryQuestion[] = [];
  private clock = 0;
  private sequence = 0;

  constructor(
    private readonly random: () => number,
    private readonly label: string,
  ) {}

  /** `count` events: about a quarter questions, 60 % answers, the rest acceptances (while there are answers to accept). */
  next(count: number): Envelope[] {
    const envelopes: Envelope[] = [];
    while (envelopes.length < count) {
      const roll = this.random();
      const at = new Date(T0 + ++this.clock).toISOString();
      const open = this.questions.filter((q) => q.acceptedAnswerId === null && q.answers.length > 0);
      if (this.questions.length === 0 || roll < 0.25) {
        const question: StoryQuestion = {
          id: `${this.label}-q${String(++this.sequence).padStart(6, '0')}`,
          subject: SUBJECTS[Math.floor(this.random() * SUBJECTS.length)] as string,
          grade: 1 + Math.floor(this.random() * 12),
          askedAt: at,
          answers: [],
          lastActivityAt: at,
          acceptedAnswerId: null,
        };
        this.questions.push(question);
        envelopes.push(envelope(asked(question.id, question.subject, question.grade, at, `Question ${question.id}`)));
      } else if (roll < 0.85 || open.length === 0) {
        const question = this.questions[Math.floor(this.random() * this.questions.length)] as StoryQuestion;
        const answerId = `${question.id}-a${question.answers.length + 1}`;
        question.answers.push(answerId);
        question.lastActivityAt = at;
        envelopes.push(envelope(added(question.id, answerId, at)));
      } else {
        const question = open[Math.floor(this.random() * open.length)] as StoryQuestion;
        const answerId = question.answers[Math.floor(this.random() * question.answers.length)] as string;
        question.acceptedAnswerId = answerId;
        question.lastActivityAt = at;
        envelopes.push(envelope(accepted(question.id, answerId, at)));
      }
    }
    return envelopes;
  }

  get questionCount(): number {
    return this.questions.length;
  }

  /** The whole feed these events give, newest first. */
  feed(): FeedItem[] {
    return this.questions
      .map((q) => ({
        questionId: q.id,
        title: `Question ${q.id}`,
        subject: q.subject,
        grade: q.grade,
        answerCount: q.answers.length,
        answered: q.answers.length > 0,
        acceptedAnswerId: q.acceptedAnswerId,
        askedAt: q.askedAt,
        lastActivityAt: q.lastActivityAt,
      }))
      .sort(newestFirst);
  }
}

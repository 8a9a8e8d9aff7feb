import { toFeedItem, type FeedItemRow } from './feed-item.js';

const row = (overrides: Partial<FeedItemRow> = {}): FeedItemRow => ({
  question_id: 'q1',
  title: 'Why is the sky blue?',
  subject: 'physics',
  grade: 7,
  asked_at: new Date('2031-05-04T10:00:00.000Z'),
  answer_count: 0,
  accepted_answer_id: null,
  last_activity_at: new Date('2031-05-04T10:00:00.000Z'),
  ...overrides,
});

describe('toFeedItem', () => {
  it('gives the contract fields, answered meaning at least one answer, times as ISO strings', () => {
    expect(toFeedItem(row())).toEqual({
      questionId: 'q1',
      title: 'Why is the sky blue?',
      subject: 'physics',
      grade: 7,
      answerCount: 0,
      answered: false,
      acceptedAnswerId: null,
      askedAt: '2031-05-04T10:00:00.000Z',
      lastActivityAt: '2031-05-04T10:00:00.000Z',
    });
    const accepted = row({ answer_count: 2, accepted_answer_id: 'a1', last_activity_at: new Date('2031-05-04T11:00:00.000Z') });
    expect(toFeedItem(accepted)).toMatchObject({
      answerCount: 2,
      answered: true,
      acceptedAnswerId: 'a1',
      lastActivityAt: '2031-05-04T11:00:00.000Z',
    });
  });

  it('has no item for a placeholder (answers known, the question not yet)', () => {
    expect(toFeedItem(row({ title: null, subject: null, grade: null, asked_at: null, answer_count: 1 }))).toBeUndefined();
  });
});

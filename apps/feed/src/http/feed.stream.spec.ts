import { jest } from '@jest/globals';
import type { MessageEvent } from '@nestjs/common';
import { Subject } from 'rxjs';
import type { FeedItem } from '../projection/feed-item.js';
import { matchesFilters } from './feed-filters.js';
import { feedStream, HEARTBEAT_MS, ITEM_EVENT } from './feed.stream.js';

const item = (overrides: Partial<FeedItem> = {}): FeedItem => ({
  questionId: 'q1',
  title: 'Why is the sky blue?',
  subject: 'physics',
  grade: 7,
  answerCount: 0,
  answered: false,
  acceptedAnswerId: null,
  askedAt: '2031-05-04T10:00:00.000Z',
  lastActivityAt: '2031-05-04T10:00:00.000Z',
  ...overrides,
});

describe('feed filters', () => {
  it('pass an item when each given filter matches, and every item when none is given', () => {
    const answered = item({ answerCount: 2, answered: true });
    expect(matchesFilters(answered, {})).toBe(true);
    expect(matchesFilters(answered, { subject: 'physics', grade: 7, answered: true })).toBe(true);
    expect(matchesFilters(answered, { subject: 'chemistry' })).toBe(false);
    expect(matchesFilters(answered, { grade: 8 })).toBe(false);
    expect(matchesFilters(answered, { answered: false })).toBe(false);
    expect(matchesFilters(item(), { answered: false })).toBe(true);
  });
});

describe('feedStream', () => {
  afterEach(() => jest.useRealTimers());

  it('sends the changes that pass the filters as item events, and ends when the changes end', () => {
    const changes = new Subject<FeedItem>();
    const sent: MessageEvent[] = [];
    let ended = false;
    feedStream(changes, { subject: 'physics' }).subscribe({ next: (event) => sent.push(event), complete: () => (ended = true) });

    changes.next(item({ questionId: 'q1' }));
    changes.next(item({ questionId: 'q2', subject: 'chemistry' }));
    changes.next(item({ questionId: 'q1', answerCount: 1, answered: true }));
    expect(sent).toEqual([
      { type: ITEM_EVENT, data: item({ questionId: 'q1' }) },
      { type: ITEM_EVENT, data: item({ questionId: 'q1', answerCount: 1, answered: true }) },
    ]);
    expect(ended).toBe(false);
    changes.complete();
    expect(ended).toBe(true);
  });

  it('sends a heartbeat comment every 15 seconds while nothing changes, and stops it when it ends', () => {
    jest.useFakeTimers();
    const changes = new Subject<FeedItem>();
    const sent: MessageEvent[] = [];
    const subscription = feedStream(changes, {}).subscribe((event) => sent.push(event));

    jest.advanceTimersByTime(HEARTBEAT_MS - 1);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(sent).toEqual([{ comment: 'heartbeat' }]);
    jest.advanceTimersByTime(2 * HEARTBEAT_MS);
    expect(sent).toHaveLength(3);
    expect(HEARTBEAT_MS).toBe(15_000);

    changes.complete();
    expect(subscription.closed).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });
});

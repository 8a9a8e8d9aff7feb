import { createHash } from 'node:crypto';
import { FEED_PAGE_CSP, FEED_PAGE_HTML } from './feed.page.js';

const hashOf = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
const inner = (tag: string): string => FEED_PAGE_HTML.match(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`))?.[1] ?? '';

describe('feed page', () => {
  it('allows exactly its own inline script and style, and nothing from elsewhere', () => {
    expect(FEED_PAGE_CSP).toContain(`script-src ${hashOf(inner('script'))}`);
    expect(FEED_PAGE_CSP).toContain(`style-src ${hashOf(inner('style'))}`);
    expect(FEED_PAGE_CSP).toContain("default-src 'none'");
    expect(FEED_PAGE_HTML).not.toMatch(/\b(src|href)=/);
  });

  it('gives browser tests stable handles', () => {
    for (const id of ['filter-subject', 'filter-grade', 'filter-answered', 'stream-status', 'feed-list', 'feed-empty', 'load-more']) {
      expect(FEED_PAGE_HTML).toContain(`data-testid="${id}"`);
    }
    const script = inner('script');
    for (const id of ['feed-item', 'item-title', 'item-subject', 'item-grade', 'item-answer-count', 'item-accepted', 'item-time']) {
      expect(script).toContain(`'${id}'`);
    }
    expect(script).toContain("'data-question-id'");
  });

  it('is valid JavaScript', () => {
    expect(() => new Function(inner('script'))).not.toThrow();
  });
});

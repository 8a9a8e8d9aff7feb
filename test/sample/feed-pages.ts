import type { FeedItem } from '../../apps/feed/src/projection/feed-item.js';

/** One page of `GET /feed`. */
export interface FeedPageBody {
  readonly items: FeedItem[];
  readonly nextCursor: string | null;
}

/** Every item `GET /feed` lists under `query` (e.g. `subject=math&grade=7`), following `nextCursor` to the last page. */
export async function readWholeFeed(base: string, query = '', limit = 100): Promise<FeedItem[]> {
  const items: FeedItem[] = [];
  let cursor: string | null = null;
  do {
    const response = await fetch(`${base}/feed?limit=${limit}${query && `&${query}`}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(response.status).toBe(200);
    const page = (await response.json()) as FeedPageBody;
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return items;
}

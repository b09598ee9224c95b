import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIST_PAGE_BYTES } from '../../src/store/store.js';
import { databaseKinds } from '../helpers/databases.js';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';

/**
 * GET /notifications pages are cut by size as well as by `limit`: a page of large notifications holds about
 * LIST_PAGE_BYTES of payload, so a response that a client is slow to read never holds a hundred of them, and
 * next_cursor walks on without losing or repeating one.
 */
describe.each(databaseKinds)('inbox pages of large notifications (%s)', (kind) => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway(kind);
  });
  afterAll(() => gateway.close());

  /** Publishes one notification per payload text length, oldest first; returns their ids. */
  async function notify(userId: string, lengths: number[]): Promise<string[]> {
    const ids: string[] = [];
    for (const [n, length] of lengths.entries()) {
      const response = await gateway.publish([{ user_id: userId, type: 'new_notification', payload: { n, text: 'x'.repeat(length) } }]);
      expect(response.status).toBe(200);
      ids.push(response.body.events[0].notification_id);
    }
    return ids;
  }

  async function walk(userId: string, query: string): Promise<{ pages: { id: string; payload: unknown }[][]; cursors: (string | null)[] }> {
    const pages: { id: string; payload: unknown }[][] = [];
    const cursors: (string | null)[] = [];
    let cursor: string | null = null;
    do {
      const response = await gateway.asUser(userId, `/notifications?${query}${cursor === null ? '' : `&cursor=${cursor}`}`);
      expect(response.status).toBe(200);
      pages.push(response.body.items);
      cursor = response.body.next_cursor;
      cursors.push(cursor);
      expect(pages.length).toBeLessThan(30);
    } while (cursor !== null);
    return { pages, cursors };
  }

  const payloadBytes = (item: { payload: unknown }): number => Buffer.byteLength(JSON.stringify(item.payload));

  it('holds about LIST_PAGE_BYTES of payload however high the limit, and next_cursor reads every one once', { timeout: 60_000 }, async () => {
    const user = uniqueUser('big-list');
    // Large and small mixed: 400 KB ones come two to a page, small ones fill in behind them.
    const lengths = [400_000, 50, 400_000, 400_000, 50, 50, 400_000, 400_000, 50, 400_000];
    const ids = await notify(user, lengths);
    const { pages, cursors } = await walk(user, 'limit=100');
    expect(pages.flat().map((item) => item.id)).toEqual([...ids].reverse());
    for (const page of pages) {
      expect(page.length).toBeGreaterThan(0);
      expect(page.reduce((sum, item) => sum + payloadBytes(item), 0)).toBeLessThanOrEqual(LIST_PAGE_BYTES);
    }
    // Newest first: 400 K, 400 K, 50 (fits), then 400 K, 400 K, 50, 50, then 400 K, 400 K, 50.
    expect(pages.map((page) => page.length)).toEqual([3, 4, 3]);
    expect(cursors.at(-1)).toBeNull();
    expect(cursors.slice(0, -1).every((cursor) => cursor !== null)).toBe(true);
  });

  it('still pages small notifications by limit alone', async () => {
    const user = uniqueUser('small-list');
    const ids = await notify(user, Array.from({ length: 7 }, () => 20));
    const { pages } = await walk(user, 'limit=3');
    expect(pages.map((page) => page.map((item) => item.id))).toEqual([ids.slice(4).reverse(), ids.slice(1, 4).reverse(), [ids[0]]]);
  });
});

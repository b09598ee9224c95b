import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '@herald/protocol';
import { createStore } from '../../src/store/create-store.js';
import { EVENTS_PAGE_BYTES, LIST_PAGE_BYTES, type ListQuery, type Store, type StoredEvent } from '../../src/store/store.js';
import { databaseKinds, dropDatabase, freshDatabaseUrl } from '../helpers/databases.js';

/** What the store measures an event by: its payload text's UTF-8 bytes. */
function bytesOf(event: StoredEvent): number {
  return Buffer.byteLength(event.payloadJson!);
}

function seqs(events: readonly StoredEvent[]): number[] {
  return events.map((event) => event.seq);
}

/** A seeded generator (mulberry32), so that a failing walk can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** `{"text":"…"}` of exactly `bytes` bytes (at least 11, the text around an empty string). */
function payloadOf(bytes: number, fill = 'x'): { text: string } {
  const payload = { text: fill.repeat(bytes - 11) };
  expect(Buffer.byteLength(JSON.stringify(payload))).toBe(bytes);
  return payload;
}

describe.each(databaseKinds)('store pages cut by size, on %s', (kind) => {
  let url: string;
  let store: Store;

  beforeEach(async () => {
    url = await freshDatabaseUrl(kind);
    store = createStore(url);
    await store.migrate();
  });

  afterEach(async () => {
    await store.close();
    await dropDatabase(url);
  });

  /** Appends one task_update per payload size for `userId`, in order; returns the stored events. */
  async function events(userId: string, sizes: readonly number[]): Promise<StoredEvent[]> {
    return store.append(sizes.map((bytes) => ({ userId, type: 'task_update', key: null, payload: payloadOf(bytes) })));
  }

  describe('eventsAfter', () => {
    it('ends a page before the first event whose predecessors on the page reach the budget', async () => {
      const stored = await events('alice', [100, 100, 5000, 100, 100, 100]);
      expect(stored.map(bytesOf)).toEqual([100, 100, 5000, 100, 100, 100]);
      // 200 bytes precede the large event, under 201: it is on the page; 5,200 precede the fourth.
      expect(await store.eventsAfter('alice', 0, 100, 201)).toEqual(stored.slice(0, 3));
      expect(seqs(await store.eventsAfter('alice', 3, 100, 201))).toEqual([4, 5, 6]);
      // A page of small and large ones together: large ones do not hide the small ones behind them.
      expect(seqs(await store.eventsAfter('alice', 2, 100, 5000))).toEqual([3]);
      expect(seqs(await store.eventsAfter('alice', 2, 100, 5001))).toEqual([3, 4]);
    });

    it('puts an event larger than the budget alone on its page, each in turn', async () => {
      await events('alice', [20_000, 20_000, 20_000]);
      for (const since of [0, 1, 2]) expect(seqs(await store.eventsAfter('alice', since, 100, 1000))).toEqual([since + 1]);
      expect(await store.eventsAfter('alice', 3, 100, 1000)).toEqual([]);
    });

    it('ends the page where the budget is reached exactly', async () => {
      await events('alice', [300, 300, 300, 300]);
      expect(seqs(await store.eventsAfter('alice', 0, 100, 600))).toEqual([1, 2]);
      expect(seqs(await store.eventsAfter('alice', 0, 100, 599))).toEqual([1, 2]);
      expect(seqs(await store.eventsAfter('alice', 0, 100, 601))).toEqual([1, 2, 3]);
      expect(seqs(await store.eventsAfter('alice', 0, 100, 300))).toEqual([1]);
    });

    it('still stops at the count, and takes a budget below 1 as 1', async () => {
      await events('alice', [100, 100, 100]);
      expect(seqs(await store.eventsAfter('alice', 0, 2, 1_000_000))).toEqual([1, 2]);
      expect(seqs(await store.eventsAfter('alice', 0, 100, 0))).toEqual([1]);
      expect(seqs(await store.eventsAfter('alice', 0, 100, Number.POSITIVE_INFINITY))).toEqual([1, 2, 3]);
      expect(await store.eventsAfter('alice', 0, 0, 1000)).toEqual([]);
    });

    it('counts UTF-8 bytes, not characters', async () => {
      // 'é' is one character and two bytes, '😀' one character, two UTF-16 units and four bytes.
      const stored = await store.append(
        ['é', '😀', 'é'].map((fill) => ({ userId: 'alice', type: 'task_update', key: null, payload: { text: fill.repeat(250) } })),
      );
      const [e, smile] = stored.map(bytesOf) as [number, number];
      expect(e).toBe(11 + 500);
      expect(smile).toBe(11 + 1000);
      // In characters the first two are 522 together; in bytes 1,522, which is what has to reach the budget.
      expect(seqs(await store.eventsAfter('alice', 0, 100, 523))).toEqual([1, 2]);
      expect(seqs(await store.eventsAfter('alice', 0, 100, e + smile))).toEqual([1, 2]);
      expect(seqs(await store.eventsAfter('alice', 0, 100, e + smile + 1))).toEqual([1, 2, 3]);
      expect((await store.eventsAfter('alice', 0, 100, 523)).map((event) => event.payload)).toEqual(stored.slice(0, 2).map((event) => event.payload));
    });

    it('cuts at EVENTS_PAGE_BYTES when the caller names no budget, counting a notification’s whole text', async () => {
      const third = Math.floor(EVENTS_PAGE_BYTES / 3);
      const stored = await store.append(
        Array.from({ length: 4 }, () => ({ userId: 'alice', type: 'new_notification' as const, key: null, payload: payloadOf(third) })),
      );
      // The stored text is the whole Notification (id, status, times around the payload): a little more than a third.
      expect(bytesOf(stored[0]!)).toBeGreaterThan(third);
      expect(seqs(await store.eventsAfter('alice', 0, 100))).toEqual([1, 2, 3]);
      expect(seqs(await store.eventsAfter('alice', 3, 100))).toEqual([4]);
    });

    it('reads a stream of mixed sizes page by page, every event once and in order, no page over budget but by its last', async () => {
      const random = seededRandom(7);
      const sizes = Array.from({ length: 120 }, () => (random() < 0.15 ? 2000 + Math.floor(random() * 30_000) : 20 + Math.floor(random() * 400)));
      const stored = await events('alice', sizes);
      await events('bob', [50_000]);
      for (const [limit, budget] of [[7, 1500], [50, 10_000], [500, 64 * 1024], [3, 1]] as const) {
        const read: StoredEvent[] = [];
        let since = 0;
        for (let pages = 0; ; pages++) {
          expect(pages).toBeLessThan(200);
          const page = await store.eventsAfter('alice', since, limit, budget);
          if (page.length === 0) break;
          const before = page.slice(0, -1).reduce((sum, event) => sum + bytesOf(event), 0);
          expect(before, `a page of ${limit}/${budget} after ${since}`).toBeLessThan(budget);
          expect(page.length).toBeLessThanOrEqual(limit);
          const full = before + bytesOf(page.at(-1)!) >= budget || page.length === limit;
          // A page short of both bounds is the end of the stream.
          if (!full) expect(page.at(-1)!.seq).toBe(stored.length);
          read.push(...page);
          since = page.at(-1)!.seq;
        }
        expect(read, `${limit}/${budget}`).toEqual(stored);
      }
    });
  });

  describe('listNotifications', () => {
    /** Appends one notification per payload size for `userId`, oldest first; returns their ids in that order. */
    async function notifications(userId: string, sizes: readonly number[]): Promise<string[]> {
      const stored = await store.append(sizes.map((bytes) => ({ userId, type: 'new_notification', key: null, payload: payloadOf(bytes) })));
      return stored.map((event) => (event.payload as unknown as Notification).id);
    }

    /** Walks every page; returns each page's ids. */
    async function walk(userId: string, query: Omit<ListQuery, 'beforeSeq'>): Promise<{ pages: string[][]; sizes: number[][] }> {
      const pages: string[][] = [];
      const sizes: number[][] = [];
      let beforeSeq: number | undefined;
      for (;;) {
        expect(pages.length).toBeLessThan(200);
        const page = await store.listNotifications(userId, { ...query, ...(beforeSeq !== undefined && { beforeSeq }) });
        pages.push(page.items.map((item) => item.id));
        sizes.push(page.items.map((item) => Buffer.byteLength(JSON.stringify(item.payload))));
        if (page.nextBeforeSeq === null) return { pages, sizes };
        beforeSeq = page.nextBeforeSeq;
      }
    }

    it('fills a page while the payloads stay within the budget, newest first, and continues with next_cursor', async () => {
      const ids = await notifications('alice', [100, 100, 5000, 100, 100, 100]);
      const newest = [...ids].reverse();
      const { pages } = await walk('alice', { status: 'all', limit: 100, maxBytes: 300 });
      expect(pages).toEqual([newest.slice(0, 3), newest.slice(3, 4), newest.slice(4, 6)]);
    });

    it('puts a notification larger than the budget alone on its page, and the cursor moves past it', async () => {
      const ids = await notifications('alice', [20_000, 20_000, 20_000]);
      const { pages } = await walk('alice', { status: 'all', limit: 100, maxBytes: 1000 });
      expect(pages).toEqual([[ids[2]], [ids[1]], [ids[0]]]);
    });

    it('takes a notification that reaches the budget exactly, and ends with a null cursor when none is left', async () => {
      const ids = await notifications('alice', [300, 300, 300, 300]);
      const newest = [...ids].reverse();
      expect((await walk('alice', { status: 'all', limit: 100, maxBytes: 600 })).pages).toEqual([newest.slice(0, 2), newest.slice(2)]);
      expect((await walk('alice', { status: 'all', limit: 100, maxBytes: 599 })).pages).toEqual([[newest[0]], [newest[1]], [newest[2]], [newest[3]]]);
      const page = await store.listNotifications('alice', { status: 'all', limit: 100, maxBytes: 1200 });
      expect(page).toMatchObject({ nextBeforeSeq: null });
      expect(page.items.map((item) => item.id)).toEqual(newest);
    });

    it('still stops at the limit, with a cursor only when more are left', async () => {
      const ids = await notifications('alice', [100, 100, 100]);
      const first = await store.listNotifications('alice', { status: 'all', limit: 2, maxBytes: 1_000_000 });
      expect(first.items.map((item) => item.id)).toEqual([ids[2], ids[1]]);
      expect(first.nextBeforeSeq).toBe(2);
      const full = await store.listNotifications('alice', { status: 'all', limit: 3, maxBytes: 300 });
      expect(full.items).toHaveLength(3);
      expect(full.nextBeforeSeq).toBeNull();
      expect(await store.listNotifications('alice', { status: 'all', limit: 0, maxBytes: 300 })).toEqual({ items: [], nextBeforeSeq: null });
      expect(await store.listNotifications('nobody', { status: 'all', limit: 10, maxBytes: 300 })).toEqual({ items: [], nextBeforeSeq: null });
    });

    it('counts only the notifications the filter keeps', async () => {
      const ids = await notifications('alice', [100, 50_000, 100, 50_000, 100]);
      await store.markRead('alice', [ids[1]!, ids[3]!]);
      const unread = await walk('alice', { status: 'unread', limit: 100, maxBytes: 300 });
      expect(unread.pages).toEqual([[ids[4], ids[2], ids[0]]]);
      const read = await walk('alice', { status: 'read', limit: 100, maxBytes: 300 });
      expect(read.pages).toEqual([[ids[3]], [ids[1]]]);
    });

    it('cuts at LIST_PAGE_BYTES when the query names no budget', async () => {
      const ids = await notifications('alice', Array.from({ length: 5 }, () => Math.floor(LIST_PAGE_BYTES / 2)));
      const { pages } = await walk('alice', { status: 'all', limit: 100 });
      expect(pages).toEqual([[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]);
    });

    it('walks an inbox of mixed sizes, every notification once, no page over budget but a lone one', async () => {
      const random = seededRandom(11);
      const sizes = Array.from({ length: 90 }, () => (random() < 0.2 ? 2000 + Math.floor(random() * 20_000) : 20 + Math.floor(random() * 400)));
      const ids = await notifications('alice', sizes);
      await notifications('bob', [100, 100]);
      for (const [limit, maxBytes] of [[7, 1500], [20, 10_000], [100, 64 * 1024], [3, 1]] as const) {
        const walked = await walk('alice', { status: 'all', limit, maxBytes });
        expect(walked.pages.flat(), `${limit}/${maxBytes}`).toEqual([...ids].reverse());
        for (const page of walked.sizes) {
          expect(page.length).toBeGreaterThan(0);
          expect(page.length).toBeLessThanOrEqual(limit);
          if (page.length > 1) expect(page.reduce((sum, bytes) => sum + bytes, 0)).toBeLessThanOrEqual(maxBytes);
        }
      }
    });
  });
});

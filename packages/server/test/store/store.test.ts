import pg from 'pg';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type { Notification } from '@herald/protocol';
import { ROWS_PER_STATEMENT } from '../../src/store/postgres-appender.js';
import { createStore } from '../../src/store/create-store.js';
import type { AppendInput, InboxItem, NotificationStatus, Store, StoredEvent } from '../../src/store/store.js';
import { databaseKinds, dropDatabase, freshDatabaseUrl } from '../helpers/databases.js';
import { freePort } from '../helpers/free-port.js';

/**
 * Events as compared: their payload text as the JSON it holds. PostgreSQL keeps payloads as jsonb, which keeps an
 * object's keys in its own order, so a replayed text may order them unlike the live one (same bytes, same JSON).
 */
function asJson(events: readonly StoredEvent[]): unknown[] {
  return events.map(({ payloadJson, ...event }) => ({ ...event, payloadJson: payloadJson === undefined ? undefined : JSON.parse(payloadJson) }));
}

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function notification(userId: string, key: string | null = null, payload: Record<string, unknown> = {}): AppendInput {
  return { userId, type: 'new_notification', key, payload: { title: `hello ${userId}`, ...payload } };
}

function taskUpdate(userId: string, key: string | null = null): AppendInput {
  return { userId, type: 'task_update', key, payload: { action: 'moved', task: { id: 't1', column: 'done' } } };
}

function notificationId(event: StoredEvent | undefined): string {
  expect(event?.type).toBe('new_notification');
  return (event!.payload as unknown as Notification).id;
}

function seqs(events: readonly StoredEvent[]): number[] {
  return events.map((event) => event.seq);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** A seeded generator (mulberry32), so that a failing batch can be replayed. */
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

/**
 * A batch of `size` items over `users`: mostly notifications, some task updates; a fifth without a key, the rest
 * with one of `keyPool` keys per user, so keys repeat within the batch and across batches. Each payload carries
 * the item's index, to tell which input a stored event came from.
 */
function mixedBatch(random: () => number, users: readonly string[], size: number, keyPool: number): AppendInput[] {
  return range(0, size - 1).map((n) => {
    const userId = users[Math.floor(random() * users.length)]!;
    const key = random() < 0.2 ? null : `k${Math.floor(random() * keyPool)}`;
    const type = random() < 0.8 ? 'new_notification' : 'task_update';
    return { userId, type, key, payload: { n } };
  });
}

function inputIndex(event: StoredEvent): number {
  const payload = event.type === 'new_notification' ? (event.payload as unknown as Notification).payload : event.payload;
  return payload.n as number;
}

type Expected = number | 'stored before' | 'repeated in batch';

/** Append as the Store promises it, worked out one item at a time: what the set-based append is checked against. */
class StreamModel {
  readonly heads = new Map<string, number>();
  readonly #keys = new Map<string, Set<string>>();

  append(inputs: readonly AppendInput[]): Expected[] {
    const inBatch = new Map<string, Set<string>>();
    return inputs.map(({ userId, key }) => {
      if (key !== null) {
        if (this.#keys.get(userId)?.has(key)) return 'stored before';
        const batchKeys = inBatch.get(userId) ?? new Set<string>();
        inBatch.set(userId, batchKeys);
        if (batchKeys.has(key)) return 'repeated in batch';
        batchKeys.add(key);
      }
      const seq = (this.heads.get(userId) ?? 0) + 1;
      this.heads.set(userId, seq);
      return seq;
    });
  }

  commit(inputs: readonly AppendInput[]): void {
    for (const { userId, key } of inputs) {
      if (key === null) continue;
      const keys = this.#keys.get(userId) ?? new Set<string>();
      keys.add(key);
      this.#keys.set(userId, keys);
    }
  }
}

/**
 * Appends a batch and checks the result against the model: which items were stored, with which seqs, in input
 * order. Returns the stored events and how many items each kind of duplicate accounted for.
 */
async function appendAndCompare(
  store: Store,
  model: StreamModel,
  inputs: readonly AppendInput[],
): Promise<{ stored: StoredEvent[]; skipped: Record<Exclude<Expected, number>, number> }> {
  const expected = model.append(inputs);
  model.commit(inputs);
  const stored = await store.append(inputs);
  const wanted = inputs.flatMap((input, n) => {
    const seq = expected[n]!;
    return typeof seq === 'number' ? [{ userId: input.userId, seq, type: input.type, n }] : [];
  });
  expect(stored.map((e) => ({ userId: e.userId, seq: e.seq, type: e.type, n: inputIndex(e) }))).toEqual(wanted);
  for (const event of stored) {
    if (event.type === 'new_notification') expect((event.payload as unknown as Notification).key).toBe(inputs[inputIndex(event)]!.key);
  }
  return {
    stored,
    skipped: {
      'stored before': expected.filter((e) => e === 'stored before').length,
      'repeated in batch': expected.filter((e) => e === 'repeated in batch').length,
    },
  };
}

/** Every user's stream, head and unread count are exactly the events that append returned, 1..n with no gap. */
async function expectStreamsToBe(store: Store, model: StreamModel, returned: readonly StoredEvent[]): Promise<void> {
  for (const [userId, head] of model.heads) {
    const mine = returned.filter((e) => e.userId === userId).sort((a, b) => a.seq - b.seq);
    expect(seqs(mine)).toEqual(range(1, head));
    expect(await store.eventsAfter(userId, 0, head + 10)).toEqual(mine);
    expect(await store.headSeq(userId)).toBe(head);
    expect((await store.unreadCount(userId)).count).toBe(mine.filter((e) => e.type === 'new_notification').length);
  }
}

describe.each(databaseKinds)('SqlStore on %s', (kind) => {
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

  it('migrates again without harm', async () => {
    await store.append([notification('alice')]);
    await store.migrate();
    await store.migrate();
    expect(await store.headSeq('alice')).toBe(1);
    expect(seqs(await store.append([notification('alice')]))).toEqual([2]);
  });

  it('numbers each user’s events 1, 2, 3 independently, returned in input order', async () => {
    const stored = await store.append([notification('alice'), taskUpdate('bob'), taskUpdate('alice'), notification('alice')]);
    expect(stored.map((e) => [e.userId, e.seq])).toEqual([
      ['alice', 1],
      ['bob', 1],
      ['alice', 2],
      ['alice', 3],
    ]);
    expect(seqs(await store.append([taskUpdate('bob')]))).toEqual([2]);
    expect(await store.headSeq('alice')).toBe(3);
    expect(await store.headSeq('bob')).toBe(2);
    expect(await store.headSeq('carol')).toBe(0);
  });

  it('stores a new_notification as the whole Notification and a task_update as given', async () => {
    const payload = { title: 'Ünïcode ✓', nested: { list: [1, 'two', null], flag: true } };
    const [created, task] = await store.append([notification('alice', 'k1', payload), taskUpdate('alice')]);
    expect(created).toMatchObject({ userId: 'alice', seq: 1, type: 'new_notification' });
    expect(created!.payload).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      key: 'k1',
      status: 'unread',
      created_at: created!.createdAt,
      read_at: null,
      payload: { title: 'Ünïcode ✓', nested: { list: [1, 'two', null], flag: true } },
    });
    expect(created!.createdAt).toMatch(ISO_UTC);
    expect(task).toMatchObject({ seq: 2, type: 'task_update', payload: taskUpdate('alice').payload });
    expect(asJson(await store.eventsAfter('alice', 0, 10))).toEqual(asJson([created!, task!]));

    const page = await store.listNotifications('alice', { status: 'all', limit: 10 });
    expect(page.items).toEqual([created!.payload]);
  });

  it('stores a key once: the repeat returns nothing and leaves no gap', async () => {
    expect(seqs(await store.append([notification('alice', 'order-1')]))).toEqual([1]);
    expect(await store.append([notification('alice', 'order-1')])).toEqual([]);
    expect(await store.append([taskUpdate('alice', 'order-1')])).toEqual([]);
    expect(await store.headSeq('alice')).toBe(1);
    expect(seqs(await store.append([notification('alice', 'order-2')]))).toEqual([2]);
    expect((await store.unreadCount('alice')).count).toBe(2);
  });

  it('stores a key once within one batch', async () => {
    const stored = await store.append([
      notification('alice', 'dup'),
      notification('alice', 'dup'),
      notification('alice'),
      notification('alice'),
    ]);
    expect(seqs(stored)).toEqual([1, 2, 3]);
    expect(stored[0]!.payload).toMatchObject({ key: 'dup' });
    expect(await store.headSeq('alice')).toBe(3);
    expect(seqs(await store.eventsAfter('alice', 0, 10))).toEqual([1, 2, 3]);
    expect((await store.unreadCount('alice')).count).toBe(3);
  });

  it('scopes keys per user', async () => {
    const stored = await store.append([notification('alice', 'same'), notification('bob', 'same')]);
    expect(stored.map((e) => [e.userId, e.seq])).toEqual([
      ['alice', 1],
      ['bob', 1],
    ]);
  });

  it('gives 50 concurrent appends of one user exactly the seqs 1..50', async () => {
    const results = await Promise.all(range(1, 50).map(() => store.append([notification('alice')])));
    expect(results.flat().map((e) => e.seq).sort((a, b) => a - b)).toEqual(range(1, 50));
    expect(seqs(await store.eventsAfter('alice', 0, 100))).toEqual(range(1, 50));
    expect(await store.headSeq('alice')).toBe(50);
  });

  it('keeps one gapless stream when appends race with mark-read transactions of the same user', async () => {
    const first = await store.append(range(1, 10).map(() => notification('alice')));
    const ids = first.map((event) => (event.payload as unknown as Notification).id);
    // Appends and mark-reads take seqs by different paths (on SQLite: prepared statements and Kysely): one counter.
    const racing = await Promise.all(
      range(0, 9).flatMap((i) => [store.append([notification('alice')]), store.markRead('alice', [ids[i]!]), store.markAllRead('alice')]),
    );
    const events = [...first, ...racing.flat().filter((event): event is StoredEvent => event !== null && typeof event === 'object')];
    const head = await store.headSeq('alice');
    expect(events.map((event) => event.seq).sort((a, b) => a - b)).toEqual(range(1, head));
    expect(seqs(await store.eventsAfter('alice', 0, 100))).toEqual(range(1, head));
    expect((await store.unreadCount('alice')).count).toBe(
      (await store.listNotifications('alice', { status: 'unread', limit: 100 })).items.length,
    );
  });

  it('stores each key once under concurrent repeats, without a gap', async () => {
    const results = await Promise.all(range(0, 59).map((i) => store.append([notification('alice', `k${i % 10}`)])));
    const stored = results.flat();
    expect(stored.map((e) => e.seq).sort((a, b) => a - b)).toEqual(range(1, 10));
    expect(new Set(stored.map((e) => (e.payload as unknown as Notification).key)).size).toBe(10);
    expect(await store.headSeq('alice')).toBe(10);
    expect(seqs(await store.eventsAfter('alice', 0, 100))).toEqual(range(1, 10));
  });

  it('does not deadlock on concurrent batches naming two users in opposite orders', async () => {
    const batches = range(1, 20).map((i) =>
      i % 2 === 0 ? [taskUpdate('alice'), taskUpdate('bob')] : [taskUpdate('bob'), taskUpdate('alice')],
    );
    const results = await Promise.all(batches.map((batch) => store.append(batch)));
    for (const [i, stored] of results.entries()) {
      expect(stored.map((e) => e.userId)).toEqual(batches[i]!.map((input) => input.userId));
    }
    expect(seqs(await store.eventsAfter('alice', 0, 100))).toEqual(range(1, 20));
    expect(seqs(await store.eventsAfter('bob', 0, 100))).toEqual(range(1, 20));
  });

  it('keeps the first of a key repeated in its batch, for each user, and skips a stored key repeated too', async () => {
    await store.append([notification('alice', 'old')]);
    const stored = await store.append([
      notification('alice', 'a'),
      taskUpdate('bob', 'a'),
      taskUpdate('alice', 'a'),
      notification('alice', 'old'),
      notification('alice', 'old'),
      notification('bob', 'a'),
      notification('alice', 'b'),
      notification('bob'),
    ]);
    expect(stored.map((e) => [e.userId, e.seq, e.type])).toEqual([
      ['alice', 2, 'new_notification'],
      ['bob', 1, 'task_update'],
      ['alice', 3, 'new_notification'],
      ['bob', 2, 'new_notification'],
    ]);
    expect(stored.map((e) => (e.type === 'new_notification' ? (e.payload as unknown as Notification).key : null))).toEqual([
      'a',
      null,
      'b',
      null,
    ]);
    expect(await store.headSeq('alice')).toBe(3);
    expect(await store.headSeq('bob')).toBe(2);
    expect((await store.unreadCount('alice')).count).toBe(3);
    expect((await store.unreadCount('bob')).count).toBe(1);
    expect(seqs(await store.eventsAfter('bob', 0, 10))).toEqual([1, 2]);
  });

  it('matches one-at-a-time appends on batches of many users with stored, repeated and missing keys', async () => {
    const random = seededRandom(7);
    const users = range(0, 39).map((i) => `mixed-${String(i).padStart(2, '0')}`);
    const model = new StreamModel();
    const first = await appendAndCompare(store, model, mixedBatch(random, users.slice(0, 30), 200, 15));
    // Ten users new in the second batch; most of the others' keys were stored by the first.
    const second = await appendAndCompare(store, model, mixedBatch(random, users, 400, 25));
    // The seeded input holds both kinds of duplicate (counted by the model; the store's answer is compared whole).
    expect(first.skipped['repeated in batch']).toBeGreaterThan(0);
    expect(second.skipped['stored before']).toBeGreaterThan(0);
    expect(second.skipped['repeated in batch']).toBeGreaterThan(0);
    await expectStreamsToBe(store, model, [...first.stored, ...second.stored]);
  });

  it('stores a batch bigger than one statement takes, in every table', async () => {
    const random = seededRandom(11);
    const users = range(0, ROWS_PER_STATEMENT + 199).map((i) => `big-${String(i).padStart(5, '0')}`);
    const model = new StreamModel();
    const first = await appendAndCompare(store, model, mixedBatch(random, users, ROWS_PER_STATEMENT, 4));
    const second = await appendAndCompare(store, model, mixedBatch(random, users, 3 * ROWS_PER_STATEMENT, 4));
    // More users, keys, events and notifications than one statement's rows: every statement ran in chunks.
    expect(new Set(second.stored.map((e) => e.userId)).size).toBeGreaterThan(ROWS_PER_STATEMENT);
    expect(second.stored.filter((e) => e.type === 'new_notification').length).toBeGreaterThan(ROWS_PER_STATEMENT);
    expect(second.skipped['stored before']).toBeGreaterThan(0);
    expect(second.skipped['repeated in batch']).toBeGreaterThan(0);
    await expectStreamsToBe(store, model, [...first.stored, ...second.stored]);
  });

  it('keeps concurrent batches over overlapping users, in opposite orders, gapless and deadlock-free', async () => {
    const users = range(0, 79).map((i) => `overlap-${String(i).padStart(2, '0')}`);
    // Eight batches of 60 users each, windows that overlap, half in ascending and half in descending user order.
    // Each names every user of its window twice: a key that every batch naming the user repeats (so exactly one
    // batch stores it, whichever commits first), then an event without a key (stored by every batch).
    const shared = (userId: string): AppendInput => ({ userId, type: 'task_update', key: 'shared', payload: { shared: true } });
    const batches = range(0, 7).map((b) => {
      const window = users.slice(b * 2, b * 2 + 60);
      const ordered = b % 2 === 0 ? window : [...window].reverse();
      return ordered.flatMap((userId) => [shared(userId), taskUpdate(userId)]);
    });
    const results = await Promise.all(batches.map((batch) => store.append(batch)));

    for (const [b, stored] of results.entries()) {
      // In input order: the batch's users in its own order, the shared event (when this batch stored it) first.
      const window = batches[b]!.filter((input) => input.key === null).map((input) => input.userId);
      expect(stored.filter((e) => e.payload.shared !== true).map((e) => e.userId)).toEqual(window);
      for (const [i, event] of stored.entries()) {
        if (event.payload.shared === true) expect(stored[i + 1]).toMatchObject({ userId: event.userId, seq: event.seq + 1 });
      }
    }
    const all = results.flat();
    for (const userId of users) {
      const mine = all.filter((e) => e.userId === userId).sort((a, b) => a.seq - b.seq);
      const naming = batches.filter((batch) => batch.some((input) => input.userId === userId)).length;
      const head = naming === 0 ? 0 : naming + 1;
      expect(seqs(mine)).toEqual(range(1, head));
      expect(mine.filter((e) => e.payload.shared === true)).toHaveLength(naming === 0 ? 0 : 1);
      expect(asJson(await store.eventsAfter(userId, 0, 100))).toEqual(asJson(mine));
      expect(await store.headSeq(userId)).toBe(head);
    }
  });

  describe('markRead', () => {
    let mine: string[];
    let theirs: string;

    beforeEach(async () => {
      const stored = await store.append([notification('alice'), notification('alice'), notification('alice'), notification('bob')]);
      mine = stored.slice(0, 3).map(notificationId);
      theirs = notificationId(stored[3]);
    });

    it('changes only the caller’s unread ones and names only those', async () => {
      const event = await store.markRead('alice', [theirs, mine[0]!, 'unknown', "'; drop table events; --", mine[0]!]);
      expect(event).toMatchObject({ userId: 'alice', seq: 4, type: 'notification_read', payload: { notification_ids: [mine[0]] } });
      expect(event!.createdAt).toMatch(ISO_UTC);
      expect(asJson(await store.eventsAfter('alice', 3, 10))).toEqual(asJson([event!]));

      expect((await store.unreadCount('alice')).count).toBe(2);
      expect((await store.unreadCount('bob')).count).toBe(1);
      const { items } = await store.listNotifications('alice', { status: 'read', limit: 10 });
      expect(items).toEqual([expect.objectContaining({ id: mine[0], status: 'read', read_at: expect.stringMatching(ISO_UTC) })]);
    });

    it('leaves out the already read ones and returns null when nothing changed', async () => {
      await store.markRead('alice', [mine[0]!]);
      const event = await store.markRead('alice', [mine[0]!, mine[1]!]);
      expect(event?.payload).toEqual({ notification_ids: [mine[1]], counts: { unread: 1, unseen: 1, categories: {} } });
      expect(await store.markRead('alice', [mine[0]!, mine[1]!])).toBeNull();
      expect(await store.markRead('alice', [theirs])).toBeNull();
      expect(await store.markRead('alice', [])).toBeNull();
      expect(await store.markRead('nobody', [mine[2]!])).toBeNull();
      expect(await store.headSeq('alice')).toBe(5);
      expect(await store.headSeq('nobody')).toBe(0);
    });

    it('takes a list of ids longer than one IN chunk', async () => {
      const ids = [...range(1, 1200).map((i) => `missing-${i}`), mine[2]!, mine[1]!];
      const event = await store.markRead('alice', ids);
      expect(event?.payload).toEqual({ notification_ids: [mine[2], mine[1]], counts: { unread: 1, unseen: 1, categories: {} } });
      expect((await store.unreadCount('alice')).count).toBe(1);
    });

    it('reports a notification read once when several callers race', async () => {
      const events = await Promise.all(range(1, 8).map(() => store.markRead('alice', [mine[1]!])));
      expect(events.filter((event) => event !== null)).toHaveLength(1);
      expect(await store.headSeq('alice')).toBe(4);
    });
  });

  it('marks all read once, and only the caller’s', async () => {
    const stored = await store.append([notification('alice'), notification('alice'), taskUpdate('alice'), notification('bob')]);
    await store.markRead('alice', [notificationId(stored[0])]);

    const event = await store.markAllRead('alice');
    expect(event).toMatchObject({ userId: 'alice', seq: 5, type: 'all_read', payload: {} });
    expect((await store.unreadCount('alice')).count).toBe(0);
    expect((await store.unreadCount('bob')).count).toBe(1);
    expect(await store.markAllRead('alice')).toBeNull();
    expect(await store.headSeq('alice')).toBe(5);

    await store.append([taskUpdate('carol')]);
    expect(await store.markAllRead('carol')).toBeNull();
    expect(await store.markAllRead('nobody')).toBeNull();
    expect(await store.headSeq('nobody')).toBe(0);
  });

  it('reads events after a seq, in order, up to a limit', async () => {
    const stored = await store.append([notification('alice'), taskUpdate('alice'), notification('alice'), taskUpdate('bob')]);
    const read = await store.markRead('alice', [notificationId(stored[0])]);
    const all = await store.eventsAfter('alice', 0, 100);
    expect(asJson(all)).toEqual(asJson([...stored.slice(0, 3), read!]));
    expect(all.map((e) => e.type)).toEqual(['new_notification', 'task_update', 'new_notification', 'notification_read']);
    expect(seqs(await store.eventsAfter('alice', 0, 2))).toEqual([1, 2]);
    expect(seqs(await store.eventsAfter('alice', 2, 100))).toEqual([3, 4]);
    expect(await store.eventsAfter('alice', 4, 100)).toEqual([]);
    expect(await store.eventsAfter('alice', 0, 0)).toEqual([]);
    expect(await store.eventsAfter('nobody', 0, 100)).toEqual([]);
  });

  describe('listNotifications', () => {
    let ids: string[];

    beforeEach(async () => {
      // Task updates in between, so that notification seqs are not contiguous.
      const inputs = range(1, 7).flatMap((i) => [notification('alice', `n${i}`), taskUpdate('alice')]);
      const stored = await store.append([...inputs, notification('bob')]);
      ids = stored.filter((e) => e.userId === 'alice' && e.type === 'new_notification').map(notificationId);
      await store.markRead('alice', [ids[1]!, ids[4]!]);
    });

    async function readAll(status: NotificationStatus, limit: number): Promise<{ items: InboxItem[]; pages: number }> {
      const items: InboxItem[] = [];
      let beforeSeq: number | undefined;
      let pages = 0;
      for (;;) {
        const page = await store.listNotifications('alice', { status, limit, ...(beforeSeq !== undefined && { beforeSeq }) });
        pages += 1;
        expect(page.items.length).toBeLessThanOrEqual(limit);
        items.push(...page.items);
        if (page.nextBeforeSeq === null) return { items, pages };
        beforeSeq = page.nextBeforeSeq;
      }
    }

    it('pages through every notification exactly once, newest first', async () => {
      const { items, pages } = await readAll('all', 3);
      expect(items.map((n) => n.id)).toEqual([...ids].reverse());
      expect(pages).toBe(3);
      expect(items.map((n) => n.key)).toEqual(['n7', 'n6', 'n5', 'n4', 'n3', 'n2', 'n1']);
    });

    it('ends on a full last page with a null cursor', async () => {
      const { items, pages } = await readAll('all', 7);
      expect(items).toHaveLength(7);
      expect(pages).toBe(1);
    });

    it('filters by status', async () => {
      const unread = await readAll('unread', 2);
      const read = await readAll('read', 2);
      expect(unread.items.map((n) => n.id)).toEqual([ids[6], ids[5], ids[3], ids[2], ids[0]]);
      expect(unread.items.every((n) => n.status === 'unread' && n.read_at === null)).toBe(true);
      expect(read.items.map((n) => n.id)).toEqual([ids[4], ids[1]]);
      expect(read.items.every((n) => n.status === 'read' && n.read_at !== null)).toBe(true);
      expect((await store.unreadCount('alice')).count).toBe(5);
    });

    it('starts before a given seq', async () => {
      const page = await store.listNotifications('alice', { status: 'all', limit: 100, beforeSeq: 5 });
      expect(page.items.map((n) => n.key)).toEqual(['n2', 'n1']);
      expect(page.nextBeforeSeq).toBeNull();
    });
  });

  it('keeps its data across close and reopen', async () => {
    const [first] = await store.append([notification('alice', 'k')]);
    await store.close();

    store = createStore(url);
    await store.migrate();
    expect(await store.eventsAfter('alice', 0, 10)).toEqual([first]);
    expect(await store.append([notification('alice', 'k')])).toEqual([]);
    expect(seqs(await store.append([notification('alice')]))).toEqual([2]);
    expect((await store.unreadCount('alice')).count).toBe(2);
  });

  it('answers ping while open and rejects it after close', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
    await store.close();
    await expect(store.ping()).rejects.toThrow(/^the store is closed$/);
  });

  // Only PostgreSQL has a server that can drop connections; the test is not declared for SQLite, not skipped.
  if (kind === 'postgres') it('survives the server dropping its connections', async () => {
    await store.close();
    const poolError = new Promise<Error>((resolve) => {
      store = createStore(url, { onPoolError: resolve });
    });
    await store.ping();
    await terminateConnections(url);
    // An idle client's error would crash the process without the pool's listener; the pool then reconnects.
    expect(await poolError).toBeInstanceOf(Error);
    await expect(store.ping()).resolves.toBeUndefined();
  });
});

describe('SqlStore on an unreachable PostgreSQL', () => {
  it('rejects ping', async () => {
    const port = await freePort();
    const store = createStore(`postgres://herald:secret@127.0.0.1:${port}/herald`);
    try {
      await expect(store.ping()).rejects.toThrow(`connect ECONNREFUSED 127.0.0.1:${port}`);
    } finally {
      await store.close();
    }
  });
});

async function terminateConnections(databaseUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: inject('postgresUrl') });
  await admin.connect();
  try {
    const name = new URL(databaseUrl).pathname.slice(1);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
  } finally {
    await admin.end();
  }
}

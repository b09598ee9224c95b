import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, TEST_API_KEY, uniqueUser, type TestGateway } from '../../server/test/helpers/gateway.js';
import { waitUntil } from '../../server/test/helpers/wait-until.js';
import { HeraldClient } from '../src/herald-client.js';
import { Inbox } from '../src/inbox.js';
import type { Store } from '../../server/src/store/store.js';

/** The Inbox's categories, seen, archive, actions, expiry and reset against a real gateway. */
function inboxes(gateway: () => TestGateway) {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });
  return {
    open(userId: string, pageSize = 50): { client: HeraldClient; inbox: Inbox } {
      const client = new HeraldClient({ url: gateway().baseUrl, token: () => gateway().token(userId), reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
      const inbox = new Inbox(client, { pageSize });
      client.connect();
      cleanups.push(() => {
        inbox.dispose();
        client.close();
      });
      return { client, inbox };
    },
  };
}

const settled = (inbox: Inbox) => inbox.getSnapshot().state === 'open' && !inbox.getSnapshot().loading;

async function serverCounts(gateway: TestGateway, userId: string) {
  const { body } = await gateway.asUser(userId, '/notifications/counts');
  const { seq: _seq, ...counts } = body;
  return counts;
}

describe('Inbox v2 over a real gateway', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway('sqlite');
  });
  afterAll(() => gateway.close());
  const tabs = inboxes(() => gateway);

  async function publish(userId: string, fields: Record<string, unknown>[]) {
    const response = await gateway.publish(fields.map((item) => ({ user_id: userId, type: 'new_notification', payload: {}, ...item })));
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return (response.body.events as { notification_id: string }[]).map((event) => event.notification_id);
  }

  it('keeps two tabs in step per category: new ones, read, seen, archived and deleted', async () => {
    const user = uniqueUser('v2-tabs');
    const [first, second] = [tabs.open(user).inbox, tabs.open(user).inbox];
    await waitUntil(() => settled(first) && settled(second), 'both tabs to load');
    const [bill1, bill2, social, plain] = await publish(user, [{ category: 'billing' }, { category: 'billing' }, { category: 'social' }, {}]);
    const expected = { unread: 4, unseen: 4, categories: { billing: { unread: 2, unseen: 2 }, social: { unread: 1, unseen: 1 } } };
    await waitUntil(() => [first, second].every((inbox) => inbox.getSnapshot().unreadCount === 4), 'four on both');
    for (const inbox of [first, second]) {
      expect(inbox.getSnapshot().counts).toEqual(expected);
      expect(inbox.getSnapshot().categories).toEqual(['billing', 'social']);
    }

    await first.markSeen();
    await waitUntil(() => second.getSnapshot().unseenCount === 0, 'seen in the other tab');
    expect(second.getSnapshot().notifications.every((item) => item.seen_at !== null)).toBe(true);
    await first.markRead(bill1!);
    await first.archive(social!);
    await second.delete(plain!);
    const after = { unread: 1, unseen: 0, categories: { billing: { unread: 1, unseen: 0 } } };
    await waitUntil(() => [first, second].every((inbox) => inbox.getSnapshot().notifications.length === 2), 'archived and deleted gone on both');
    for (const inbox of [first, second]) {
      await waitUntil(() => inbox.getSnapshot().unreadCount === 1, 'the counts after the changes');
      expect(inbox.getSnapshot().counts).toEqual(after);
      expect(inbox.getSnapshot().notifications.map((item) => [item.id, item.status])).toEqual([
        [bill2, 'unread'],
        [bill1, 'read'],
      ]);
    }
    expect(await serverCounts(gateway, user)).toEqual(after);

    await second.markUnread(bill1!);
    await waitUntil(() => first.getSnapshot().counts.categories['billing']?.unread === 2, 'unread again in the first tab');
    expect(await serverCounts(gateway, user)).toEqual(first.getSnapshot().counts);
  });

  it('counts exactly per category while events and the user’s own changes race the first load', async () => {
    const user = uniqueUser('v2-race');
    const categories = ['a', 'b', 'c'];
    await publish(user, Array.from({ length: 6 }, (_, n) => ({ category: categories[n % 3] })));
    const racing = (async () => {
      for (let batch = 0; batch < 6; batch++) {
        await publish(user, Array.from({ length: 4 }, (_, n) => (n === 3 ? {} : { category: categories[(batch + n) % 3] })));
        // One of the user's own changes between the batches: its event carries the counts.
        if (batch % 2 === 0) await gateway.asUser(user, '/notifications/mark-read', { body: { filter: { category: categories[batch % 3] } } });
        else await gateway.asUser(user, '/notifications/mark-seen', { body: { filter: {} } });
      }
    })();
    const { inbox } = tabs.open(user, 100);
    await racing;
    const finalSeq = (await gateway.asUser(user, '/notifications/counts')).body.seq as number;
    await waitUntil(() => settled(inbox) && inbox.getSnapshot().notifications.length === 30, 'all 30 listed');
    await waitUntil(async () => JSON.stringify(inbox.getSnapshot().counts) === JSON.stringify(await serverCounts(gateway, user)), 'the counts to agree');
    expect(inbox.getSnapshot().counts).toEqual(await serverCounts(gateway, user));
    expect(finalSeq).toBeGreaterThan(30);
    expect(new Set(inbox.getSnapshot().notifications.map((item) => item.id)).size).toBe(30);
  });

  it('lists the archive and a category, each kept to its view', async () => {
    const user = uniqueUser('v2-views');
    const { inbox } = tabs.open(user);
    await waitUntil(() => settled(inbox), 'the inbox to load');
    const [deploy, bill] = await publish(user, [{ category: 'deploys' }, { category: 'billing' }]);
    await inbox.setView({ category: 'deploys' });
    await waitUntil(() => settled(inbox), 'the category');
    expect(inbox.getSnapshot().notifications.map((item) => item.id)).toEqual([deploy]);
    await inbox.archive([deploy!, bill!]);
    await waitUntil(() => inbox.getSnapshot().notifications.length === 0, 'archived out of the category');
    await inbox.setView({ category: null, archived: true });
    await waitUntil(() => settled(inbox) && inbox.getSnapshot().notifications.length === 2, 'the archive');
    await inbox.unarchive(bill!);
    await waitUntil(() => inbox.getSnapshot().notifications.length === 1, 'unarchived out of the archive');
    expect(inbox.getSnapshot().counts).toEqual({ unread: 1, unseen: 1, categories: { billing: { unread: 1, unseen: 1 } } });
  });

  it('records an action once and shows it in every tab', async () => {
    const user = uniqueUser('v2-action');
    const [first, second] = [tabs.open(user).inbox, tabs.open(user).inbox];
    await waitUntil(() => settled(first) && settled(second), 'both tabs to load');
    const [id] = await publish(user, [{ actions: [{ id: 'approve', label: 'Approve' }, { id: 'reject', label: 'Reject' }] }]);
    await waitUntil(() => second.getSnapshot().notifications.length === 1, 'the notification');
    expect(second.getSnapshot().notifications[0]!.actions.map((action) => action.id)).toEqual(['approve', 'reject']);
    await first.act(id!, 'approve');
    await waitUntil(() => second.getSnapshot().notifications[0]!.actioned !== null, 'the action in the other tab');
    expect(second.getSnapshot().notifications[0]!.actioned).toMatchObject({ id: 'approve' });
    await expect(first.act(id!, 'reject')).rejects.toMatchObject({ status: 409 });
  });

  it('drops a notification when it expires, from the list and the counts', async () => {
    const user = uniqueUser('v2-expiry');
    const { inbox } = tabs.open(user);
    await waitUntil(() => settled(inbox), 'the inbox to load');
    await publish(user, [{ category: 'otp', ttl_s: 1 }, { category: 'otp' }]);
    await waitUntil(() => inbox.getSnapshot().notifications.length === 2, 'both listed');
    expect(inbox.getSnapshot().counts.categories['otp']).toEqual({ unread: 2, unseen: 2 });
    await waitUntil(() => inbox.getSnapshot().notifications.length === 1, 'the expired one dropped', 5000);
    await waitUntil(() => inbox.getSnapshot().unreadCount === 1, 'the counts without it');
    expect(inbox.getSnapshot().counts).toEqual(await serverCounts(gateway, user));
  });

  it('starts over, empty, when the user is erased (4004), and takes the new stream from its first event', async () => {
    const user = uniqueUser('v2-erased');
    const { inbox, client } = tabs.open(user);
    await waitUntil(() => settled(inbox), 'the inbox to load');
    await publish(user, [{}, {}, {}]);
    await waitUntil(() => inbox.getSnapshot().unreadCount === 3, 'three');
    const erased = await fetch(`${gateway.baseUrl}/users/${user}`, { method: 'DELETE', headers: { authorization: `Bearer ${TEST_API_KEY}` } });
    expect(erased.status).toBe(200);
    await waitUntil(() => settled(inbox) && inbox.getSnapshot().notifications.length === 0, 'the emptied inbox');
    expect(inbox.getSnapshot().unreadCount).toBe(0);
    await publish(user, [{}]);
    await waitUntil(() => inbox.getSnapshot().unreadCount === 1, 'the new stream’s first notification');
    expect(client.lastSeq).toBe(1);
  });
});

describe('Inbox after a reset from a real gateway', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway('sqlite', { env: { HERALD_MAX_NOTIFICATIONS_PER_USER: '5' } });
  });
  afterAll(() => gateway.close());
  const tabs = inboxes(() => gateway);

  it('reloads list and counts when the events it missed are no longer kept, and goes on with the stream', async () => {
    const user = uniqueUser('v2-reset');
    const { client, inbox } = tabs.open(user);
    const resets: number[] = [];
    client.on('reset', (seq) => resets.push(seq));
    await waitUntil(() => settled(inbox), 'the inbox to load');
    await gateway.publish({ user_id: user, type: 'new_notification', category: 'a', payload: { n: 0 } });
    await waitUntil(() => inbox.getSnapshot().unreadCount === 1, 'the first');
    client.close();
    // Away for 8 more: only the newest 5 are kept, and the events after seq 1 are gone with the others.
    for (let n = 1; n <= 8; n++) await gateway.publish({ user_id: user, type: 'new_notification', category: n % 2 ? 'a' : 'b', payload: { n } });
    client.connect();
    await waitUntil(() => resets.length === 1 && settled(inbox), 'the reset and the reload');
    expect(resets).toEqual([9]);
    expect(client.lastSeq).toBe(9);
    expect(inbox.getSnapshot().notifications.map((item) => item.payload['n'])).toEqual([8, 7, 6, 5, 4]);
    expect(inbox.getSnapshot().counts).toEqual(await serverCounts(gateway, user));
    await gateway.asUser(user, '/notifications/mark-read', { body: { filter: { category: 'b' } } });
    await waitUntil(() => inbox.getSnapshot().counts.categories['b'] === undefined, 'the next event, after the reset');
    expect(inbox.getSnapshot().counts).toEqual(await serverCounts(gateway, user));
    expect(client.lastSeq).toBe(10);
  });
});

/** The real store, with the next counts read of one user held before it starts or after it was answered. */
function holdingCounts(inner: Store) {
  let hold: { userId: string; phase: 'before' | 'answer'; reached: () => void; gate: Promise<void> } | undefined;
  const store = new Proxy(inner, {
    get(target, property) {
      if (property === 'counts') {
        return async (userId: string) => {
          const held = hold?.userId === userId ? hold : undefined;
          if (held === undefined) return target.counts(userId);
          hold = undefined;
          if (held.phase === 'before') {
            held.reached();
            await held.gate;
            return target.counts(userId);
          }
          const answer = await target.counts(userId);
          held.reached();
          await held.gate;
          return answer;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    store,
    hold(userId: string, phase: 'before' | 'answer') {
      let reached!: () => void;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const isReached = new Promise<void>((resolve) => (reached = resolve));
      hold = { userId, phase, reached, gate };
      return { reached: isReached, release };
    },
  };
}

describe('Inbox counts with the counts read held inside a race', () => {
  let gateway: TestGateway;
  let holding: ReturnType<typeof holdingCounts>;
  beforeAll(async () => {
    gateway = await startGateway('sqlite', {
      wrapStore: (store) => {
        holding = holdingCounts(store);
        return holding.store;
      },
    });
  });
  afterAll(() => gateway.close());
  const tabs = inboxes(() => gateway);

  it.each(['before', 'answer'] as const)('counts each event once when the events arrive while the counts read is held (%s it)', async (phase) => {
    const user = uniqueUser(`v2-held-${phase}`);
    await gateway.publish([{ category: 'a' }, { category: 'b' }].map((item) => ({ user_id: user, type: 'new_notification', payload: {}, ...item })));
    const held = holding.hold(user, phase);
    const { client, inbox } = tabs.open(user);
    await held.reached;
    // Delivered over the socket while the counts are out: read after them ('before'), or before them ('answer').
    await gateway.publish([{ category: 'a' }, { category: 'c' }, {}].map((item) => ({ user_id: user, type: 'new_notification', payload: {}, ...item })));
    await waitUntil(() => client.lastSeq === 5, 'the three events on the socket');
    held.release();
    await waitUntil(() => settled(inbox), 'the load');
    expect(inbox.getSnapshot().counts).toEqual({
      unread: 5,
      unseen: 5,
      categories: { a: { unread: 2, unseen: 2 }, b: { unread: 1, unseen: 1 }, c: { unread: 1, unseen: 1 } },
    });
    expect(inbox.getSnapshot().counts).toEqual(await serverCounts(gateway, user));
  });
});

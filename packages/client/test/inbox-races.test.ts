import { afterEach, describe, expect, it } from 'vitest';
import type { CountsBody } from '@herald/protocol';
import { waitUntil } from '../../server/test/helpers/wait-until.js';
import type { HeraldClient } from '../src/herald-client.js';
import { Inbox } from '../src/inbox.js';
import { FakeClock } from './fake-clock.js';
import { newNotificationFrame, record, ScriptedHerald } from './scripted-herald.js';

/**
 * The Inbox against a Herald the test scripts (a real socket, REST answers held until the test releases them), so
 * that each race is played out exactly: which events arrive before, during and after the list and counts answers.
 */
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(options: { clock?: FakeClock } = {}) {
  const herald = await ScriptedHerald.start();
  cleanups.push(() => herald.close());
  const client = herald.client();
  const inbox = new Inbox(client, { pageSize: 50, clock: options.clock });
  cleanups.push(() => {
    inbox.dispose();
    client.close();
  });
  client.connect();
  return { herald, client, inbox, snapshot: () => inbox.getSnapshot() };
}

const counts = (unread: number, unseen: number, categories: CountsBody['categories'] = {}, seq = 0) => ({ unread, unseen, categories, seq });

/** Answers the load that follows a connection: the list and the counts. */
async function answerLoad(herald: ScriptedHerald, items: unknown[], answer: ReturnType<typeof counts>) {
  (await herald.request('/notifications')).answer({ items, next_cursor: null });
  (await herald.request('/notifications/counts')).answer(answer);
}

async function loaded(inbox: Inbox) {
  await waitUntil(() => !inbox.getSnapshot().loading, 'the inbox to load');
}

describe('Inbox counts under racing events', () => {
  it('applies only the events after the counts’ seq, in total and per category, whichever arrives first', async () => {
    const { herald, inbox, snapshot } = await setUp();
    await herald.accept(1, { seq: 3 });
    const countsCall = await herald.request('/notifications/counts');
    const listCall = await herald.request('/notifications');
    const [four, five, six, seven] = [record({ category: 'billing' }), record({ category: 'social' }), record({ category: 'billing' }), record()];
    // 4 and 5 are in the counts Herald read (at seq 5); 6 and 7 came after.
    for (const [seq, item] of [[4, four], [5, five], [6, six], [7, seven]] as const) herald.send(newNotificationFrame(seq, item));
    await new Promise((resolve) => setTimeout(resolve, 50));
    countsCall.answer(counts(5, 4, { billing: { unread: 3, unseen: 2 }, social: { unread: 2, unseen: 2 } }, 5));
    listCall.answer({ items: [five, four], next_cursor: null });
    await loaded(inbox);

    expect(snapshot().counts).toEqual({ unread: 7, unseen: 6, categories: { billing: { unread: 4, unseen: 3 }, social: { unread: 2, unseen: 2 } } });
    expect(snapshot().unreadCount).toBe(7);
    expect(snapshot().unseenCount).toBe(6);
    expect(snapshot().notifications.map((item) => item.id)).toEqual([seven.id, six.id, five.id, four.id]);
    expect(snapshot().categories).toEqual(['billing', 'social']);
  });

  it('skips events the counts already have when the counts are ahead of the stream, and counts the rest', async () => {
    const { herald, inbox, snapshot } = await setUp();
    await herald.accept(1, { seq: 0 });
    // Herald counted at seq 2: both events below were already in it when they reach the socket.
    await answerLoad(herald, [], counts(2, 2, { news: { unread: 2, unseen: 2 } }, 2));
    await loaded(inbox);
    for (const seq of [1, 2, 3]) herald.send(newNotificationFrame(seq, record({ category: 'news' })));
    await waitUntil(() => snapshot().notifications.length === 3, 'three listed');
    expect(snapshot().counts).toEqual({ unread: 3, unseen: 3, categories: { news: { unread: 3, unseen: 3 } } });
  });

  it('takes the counts an event carries when it is newer, and ignores an older one', async () => {
    const { herald, inbox, snapshot } = await setUp();
    await herald.accept(1, { seq: 9 });
    const item = record({ category: 'ops' });
    const countsCall = await herald.request('/notifications/counts');
    (await herald.request('/notifications')).answer({ items: [item], next_cursor: null });
    const carried = { unread: 0, unseen: 0, categories: {} };
    // seq 10 is older than the counts' 11: what it carries is older than what the fetch read.
    herald.send({ type: 'notification_read', seq: 10, payload: { notification_ids: [item.id], counts: carried } });
    await waitUntil(() => snapshot().notifications[0]?.status === 'read', 'the read in the list');
    countsCall.answer(counts(4, 1, { ops: { unread: 4, unseen: 1 } }, 11));
    await loaded(inbox);
    expect(snapshot().counts.unread).toBe(4);

    const after = { unread: 3, unseen: 0, categories: { ops: { unread: 3, unseen: 0 } } };
    herald.send({ type: 'notification_updated', seq: 11, payload: { notification_ids: [item.id], changes: { seen_at: 'x' }, counts: carried } });
    herald.send({ type: 'notification_updated', seq: 12, payload: { notification_ids: [item.id], changes: { status: 'unread', read_at: null }, counts: after } });
    await waitUntil(() => snapshot().notifications[0]?.status === 'unread', 'the unread in the list');
    expect(snapshot().counts).toEqual(after);
  });

  it('does not count or list a new notification that has already expired', async () => {
    const { herald, inbox, snapshot } = await setUp();
    await herald.accept(1, { seq: 0 });
    await answerLoad(herald, [], counts(0, 0));
    await loaded(inbox);
    herald.send(newNotificationFrame(1, record({ category: 'a', expires_at: new Date(Date.now() - 1000).toISOString() })));
    const live = record({ category: 'a', expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    herald.send(newNotificationFrame(2, live));
    await waitUntil(() => snapshot().notifications.length === 1, 'the live one listed');
    expect(snapshot().notifications[0]!.id).toBe(live.id);
    expect(snapshot().counts).toEqual({ unread: 1, unseen: 1, categories: { a: { unread: 1, unseen: 1 } } });
  });

  it('asks for the counts again after a change event that carries none', async () => {
    const { herald, inbox, snapshot } = await setUp();
    await herald.accept(1, { seq: 0 });
    const item = record();
    await answerLoad(herald, [item], counts(1, 1, {}, 0));
    await loaded(inbox);
    herald.send({ type: 'notification_deleted', seq: 1, payload: { notification_ids: [item.id] } });
    (await herald.request('/notifications/counts')).answer(counts(0, 0, {}, 1));
    await waitUntil(() => snapshot().unreadCount === 0, 'the reloaded counts');
    expect(snapshot().notifications).toEqual([]);
  });
});

describe('Inbox after a reset', () => {
  async function resetInbox() {
    const setup = await setUp();
    const { herald, client, inbox } = setup;
    const resets: number[] = [];
    client.on('reset', (seq) => resets.push(seq));
    await herald.accept(1, { seq: 5 });
    await answerLoad(herald, [record()], counts(1, 1, {}, 5));
    await loaded(inbox);
    return { ...setup, resets };
  }

  it('moves the stream to the reset’s seq, says so, and reloads the list and counts with the events after it', async () => {
    const { herald, client, inbox, snapshot, resets } = await resetInbox();
    herald.send({ type: 'reset', payload: { seq: 40 } });
    await waitUntil(() => resets.length === 1, 'the reset event');
    expect(resets).toEqual([40]);
    expect(client.lastSeq).toBe(40);
    const listCall = await herald.request('/notifications');
    const countsCall = await herald.request('/notifications/counts');
    const [kept, fresh] = [record({ category: 'a' }), record({ category: 'a' })];
    // An old seq is a repeat now; 41 is the next one and arrives while the reload is out.
    herald.send(newNotificationFrame(12, record()));
    herald.send(newNotificationFrame(41, fresh));
    await waitUntil(() => client.lastSeq === 41, 'seq 41');
    listCall.answer({ items: [kept], next_cursor: null });
    countsCall.answer(counts(1, 1, { a: { unread: 1, unseen: 1 } }, 40));
    await loaded(inbox);
    expect(snapshot().notifications.map((item) => item.id)).toEqual([fresh.id, kept.id]);
    expect(snapshot().counts).toEqual({ unread: 2, unseen: 2, categories: { a: { unread: 2, unseen: 2 } } });
  });

  it('starts over without `since` after Herald closes with 4004 (the user was erased)', async () => {
    const { herald, inbox, snapshot } = await resetInbox();
    herald.send(newNotificationFrame(6, record()));
    await waitUntil(() => snapshot().notifications.length === 2, 'the sixth event');
    herald.dropConnection(4004);
    await herald.accept(2, { seq: 0 });
    // Without the 4004 rule the second one would resume after seq 6.
    expect(herald.connections).toEqual(['/ws/notifications', '/ws/notifications']);
    await answerLoad(herald, [], counts(0, 0, {}, 0));
    await waitUntil(() => snapshot().notifications.length === 0, 'the emptied list');
    // The new stream's seq 1 is delivered, not taken for a repeat of the old one's.
    herald.send(newNotificationFrame(1, record()));
    await waitUntil(() => snapshot().unreadCount === 1, 'the new stream’s first event');
    await loaded(inbox);
  });
});

describe('Inbox views and expiry', () => {
  it('lists the archive, drops what leaves it, and reloads for what another tab moved into it', async () => {
    const { herald, inbox, snapshot } = await setUp();
    await herald.accept(1, { seq: 0 });
    const inInbox = record();
    await answerLoad(herald, [inInbox], counts(1, 1));
    await loaded(inbox);

    const archived = record({ archived_at: '2026-01-02T00:00:00.000Z' });
    void inbox.setView({ archived: true });
    const archiveCall = await herald.request('/notifications');
    expect(Object.fromEntries(archiveCall.url.searchParams)).toEqual({ archived: 'true', limit: '50' });
    archiveCall.answer({ items: [archived], next_cursor: null });
    await waitUntil(() => snapshot().notifications.length === 1, 'the archive');
    expect(snapshot().view).toEqual({ category: null, archived: true });

    herald.send({ type: 'notification_updated', seq: 1, payload: { notification_ids: [archived.id], changes: { archived_at: null }, counts: counts(2, 2) } });
    await waitUntil(() => snapshot().notifications.length === 0, 'the unarchived one gone');
    herald.send({ type: 'notification_updated', seq: 2, payload: { notification_ids: [inInbox.id], changes: { archived_at: '2026-01-03T00:00:00.000Z' } } });
    const reload = await herald.request('/notifications');
    reload.answer({ items: [{ ...inInbox, archived_at: '2026-01-03T00:00:00.000Z' }], next_cursor: null });
    await waitUntil(() => snapshot().notifications[0]?.id === inInbox.id, 'the newly archived one');
    // The counts follow the event (it carried none, so they are fetched), whatever the view.
    (await herald.request('/notifications/counts')).answer(counts(1, 1, {}, 2));
    await waitUntil(() => snapshot().unreadCount === 1, 'the counts');
  });

  it('lists one category, taking only its new notifications', async () => {
    const { herald, inbox, snapshot } = await setUp();
    await herald.accept(1, { seq: 0 });
    await answerLoad(herald, [], counts(0, 0));
    await loaded(inbox);
    void inbox.setView({ category: 'deploys' });
    const call = await herald.request('/notifications');
    expect(Object.fromEntries(call.url.searchParams)).toEqual({ category: 'deploys', archived: 'false', limit: '50' });
    call.answer({ items: [], next_cursor: null });
    await loaded(inbox);
    const deploy = record({ category: 'deploys' });
    herald.send(newNotificationFrame(1, record({ category: 'billing' })));
    herald.send(newNotificationFrame(2, deploy));
    herald.send(newNotificationFrame(3, record()));
    await waitUntil(() => snapshot().unreadCount === 3, 'all three counted');
    expect(snapshot().notifications.map((item) => item.id)).toEqual([deploy.id]);
    expect(snapshot().categories).toEqual(['billing', 'deploys']);
    expect(snapshot().counts.categories).toEqual({ billing: { unread: 1, unseen: 1 }, deploys: { unread: 1, unseen: 1 } });
  });

  it('applies the events that arrive while an older page loads to that page too', async () => {
    const { herald, inbox, snapshot } = await setUp();
    await herald.accept(1, { seq: 0 });
    const [newest, old, older] = [record(), record(), record()];
    (await herald.request('/notifications')).answer({ items: [newest], next_cursor: '7' });
    (await herald.request('/notifications/counts')).answer(counts(3, 3));
    await loaded(inbox);
    const more = inbox.loadMore();
    const call = await herald.request('/notifications');
    expect(call.url.searchParams.get('cursor')).toBe('7');
    const fresh = record();
    herald.send({ type: 'notification_read', seq: 1, payload: { notification_ids: [old.id], counts: counts(2, 2) } });
    herald.send({ type: 'notification_deleted', seq: 2, payload: { notification_ids: [older.id], counts: counts(1, 1) } });
    herald.send(newNotificationFrame(3, fresh));
    await waitUntil(() => snapshot().notifications.length === 2, 'the new one on top');
    call.answer({ items: [old, older], next_cursor: null });
    await more;
    expect(snapshot().notifications.map((item) => [item.id, item.status])).toEqual([
      [fresh.id, 'unread'],
      [newest.id, 'unread'],
      [old.id, 'read'],
    ]);
  });

  it('drops a notification when it expires and fetches the counts, which no longer have it', async () => {
    const clock = new FakeClock(Date.UTC(2026, 5, 1));
    const { herald, inbox, snapshot } = await setUp({ clock });
    await herald.accept(1, { seq: 0 });
    const soon = record({ expires_at: new Date(clock.now() + 60_000).toISOString() });
    const later = record({ expires_at: new Date(clock.now() + 120_000).toISOString() });
    await answerLoad(herald, [soon, later, record()], counts(3, 3));
    await loaded(inbox);
    // One timer, at the earliest expiry.
    expect(clock.pending.filter((ms) => ms <= 120_000)).toEqual([60_000]);
    clock.runNext();
    expect(snapshot().notifications.map((item) => item.id)).not.toContain(soon.id);
    expect(snapshot().notifications).toHaveLength(2);
    (await herald.request('/notifications/counts')).answer(counts(2, 2));
    await waitUntil(() => snapshot().unreadCount === 2, 'the counts without it');
    expect(clock.pending.filter((ms) => ms <= 120_000)).toEqual([60_000]);
  });
});

describe('Inbox errors and calls', () => {
  it('clears an error once the client connects again', async () => {
    const { herald, inbox, snapshot } = await setUp();
    await herald.accept(1, { seq: 0 });
    await answerLoad(herald, [], counts(0, 0));
    await loaded(inbox);
    const failing = inbox.archive('missing');
    (await herald.request('/notifications/archive')).answer({ error: 'not_found', message: 'No such notification' }, 404);
    await expect(failing).rejects.toMatchObject({ status: 404 });
    expect(snapshot().error).toBe('No such notification');
    herald.dropConnection(1012);
    await herald.accept(2, { seq: 0 });
    await waitUntil(() => snapshot().state === 'open', 'the second connection');
    expect(snapshot().error).toBeNull();
  });

  it.each([
    ['markSeen', 'mark-seen'],
    ['markRead', 'mark-read'],
    ['markUnread', 'mark-unread'],
    ['archive', 'archive'],
    ['unarchive', 'unarchive'],
    ['delete', 'delete'],
  ] as const)('%s posts ids or a filter to /notifications/%s and resolves to the changed ids', async (method, path) => {
    const { herald, client } = await setUp();
    const call = (selection: readonly string[] | { category: string }) => (client[method] as HeraldClient['markSeen'])(selection);
    const byIds = call(['x', 'y']);
    const first = await herald.request(`/notifications/${path}`);
    expect([first.method, first.body]).toEqual(['POST', { notification_ids: ['x', 'y'] }]);
    first.answer({ notification_ids: ['x'] });
    expect(await byIds).toEqual(['x']);
    const byFilter = call({ category: 'a' });
    const second = await herald.request(`/notifications/${path}`);
    expect(second.body).toEqual({ filter: { category: 'a' } });
    second.answer({ notification_ids: [] });
    expect(await byFilter).toEqual([]);
  });

  it('posts an action to /notifications/{id}/actions/{action_id}', async () => {
    const { herald, inbox } = await setUp();
    const acting = inbox.act('n/1', 'approve');
    const call = await herald.request('/notifications/n%2F1/actions/approve');
    expect(call.method).toBe('POST');
    call.answer({ notification_id: 'n/1', actioned: { id: 'approve', at: '2026-01-01T00:00:00.000Z' } });
    await acting;
  });

  it('marks the listed unseen ones seen, and sends nothing when all are seen', async () => {
    const { herald, inbox } = await setUp();
    await herald.accept(1, { seq: 0 });
    const [unseen, seen] = [record(), record({ seen_at: '2026-01-01T00:00:00.000Z' })];
    await answerLoad(herald, [unseen, seen], counts(2, 1));
    await loaded(inbox);
    const marking = inbox.markSeen();
    const call = await herald.request('/notifications/mark-seen');
    expect(call.body).toEqual({ notification_ids: [unseen.id] });
    call.answer({ notification_ids: [unseen.id] });
    await marking;
    herald.send({ type: 'notification_updated', seq: 1, payload: { notification_ids: [unseen.id], changes: { seen_at: '2026-01-01T00:00:01.000Z' }, counts: counts(2, 0) } });
    await waitUntil(() => inbox.getSnapshot().unseenCount === 0, 'the seen event');
    await inbox.markSeen();
    expect(herald.pending('/notifications/mark-seen')).toBe(0);
  });
});

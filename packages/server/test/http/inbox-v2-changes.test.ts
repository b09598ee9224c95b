import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../helpers/databases.js';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { CHANGE_EVENTS, countsBody, eventsOnEveryTab, InboxApi, isoTime } from '../helpers/inbox-api.js';
import { InboxModel, type Change, type Target } from '../helpers/inbox-model.js';
import { changeAndCheck, expectNoEventsAfter } from '../helpers/inbox-steps.js';
import { TestClient } from '../helpers/ws-client.js';

const CHANGES: readonly Change[] = ['seen', 'read', 'unread', 'archive', 'unarchive', 'delete'];

/** A small seeded generator (mulberry32): a failing sequence is the same on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe.each(databaseKinds)('inbox v2: changes and the events that tell every tab (%s)', (kind) => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway(kind);
  });
  afterAll(() => gateway.close());

  /** A user with `categories.length` notifications (in those categories, null for none) and two open tabs. */
  async function setUp(prefix: string, categories: Array<string | null>) {
    const api = new InboxApi(gateway, uniqueUser(prefix));
    const model = new InboxModel();
    const tabs = await api.openTabs(2);
    const ids = await api.publish(categories.map((category) => (category === null ? {} : { category })));
    ids.forEach((id, index) => model.add(id, { category: categories[index]! }));
    await eventsOnEveryTab(tabs, ids.length);
    return { api, model, ids, tabs };
  }

  const closeAll = (tabs: readonly TestClient[]) => Promise.all(tabs.map((tab) => tab.close()));

  it.each(CHANGES)('%s by ids: one event to both tabs with the ids, the change and the counts at its seq', async (change) => {
    const { api, model, ids, tabs } = await setUp(`ids-${change}`, ['a', 'a', 'b', null, 'b']);
    // A state in which every change has something to change: some read, some archived.
    if (change === 'unread') await changeAndCheck(api, model, tabs, 'read', { notification_ids: [ids[0]!, ids[2]!, ids[3]!] });
    if (change === 'unarchive') await changeAndCheck(api, model, tabs, 'archive', { notification_ids: [ids[0]!, ids[2]!, ids[3]!] });
    // Repeats and unknown ids are left out; the answer is in the order asked.
    const target = { notification_ids: [ids[2]!, ids[0]!, ids[2]!, 'no-such-notification'] };
    const event = await changeAndCheck(api, model, tabs, change, target);
    expect(event?.payload.notification_ids).toEqual([ids[2], ids[0]]);
    // The same request again changes nothing, and pushes nothing.
    expect(await changeAndCheck(api, model, tabs, change, target)).toBeNull();

    const records = new Map((await api.list({ archived: 'all' })).map((item) => [item.id, item]));
    for (const id of [ids[2]!, ids[0]!]) {
      const record = records.get(id);
      if (change === 'delete') expect(record).toBeUndefined();
      if (change === 'seen') expect(record.seen_at).toBe(event!.payload.changes.seen_at);
      if (change === 'archive') expect(record.archived_at).toBe(event!.payload.changes.archived_at);
      if (change === 'unarchive') expect(record.archived_at).toBeNull();
      if (change === 'unread') expect(record).toMatchObject({ status: 'unread', read_at: null, seen_at: isoTime });
      // Reading marks seen, at the moment it is read.
      if (change === 'read') expect(record).toMatchObject({ status: 'read', read_at: isoTime, seen_at: record.read_at });
    }
    // The others are as they were.
    expect(records.get(ids[1]!)).toMatchObject({ status: 'unread', seen_at: null, archived_at: null });
    await expectNoEventsAfter(tabs, (await api.counts()).seq);
    await closeAll(tabs);
  });

  it.each(CHANGES)('%s by filter: every match of the category and status, newest first, in one event', async (change) => {
    const { api, model, ids, tabs } = await setUp(`filter-${change}`, ['a', 'b', 'a', null, 'a', 'b']);
    await changeAndCheck(api, model, tabs, 'read', { notification_ids: [ids[0]!, ids[1]!, ids[3]!] });
    await changeAndCheck(api, model, tabs, 'seen', { notification_ids: [ids[2]!] });
    if (change === 'unarchive') await changeAndCheck(api, model, tabs, 'archive', { filter: {} });
    const targets: Target[] = [
      { filter: { category: 'a', status: 'read' } },
      { filter: { category: 'a' } },
      { filter: { status: 'unread' } },
      { filter: { category: 'none-such' } },
      { filter: {} },
      { filter: {} },
    ];
    let changedSomething = false;
    for (const target of targets) changedSomething = (await changeAndCheck(api, model, tabs, change, target)) !== null || changedSomething;
    expect(changedSomething).toBe(true);
    expect(await api.listIds({ archived: 'all' })).toEqual(model.list({ archived: 'all' }));
    await closeAll(tabs);
  });

  it('reading marks seen; marking unread keeps it seen; marking seen then changes nothing', async () => {
    const { api, model, ids, tabs } = await setUp('seen', ['a', 'a']);
    const [first, second] = ids as [string, string];
    const seen = await changeAndCheck(api, model, tabs, 'seen', { notification_ids: [first] });
    await changeAndCheck(api, model, tabs, 'read', { notification_ids: [first, second] });
    const [secondRecord, firstRecord] = await api.list();
    expect(firstRecord.seen_at).toBe(seen!.payload.changes.seen_at);
    expect(firstRecord.read_at >= firstRecord.seen_at).toBe(true);
    expect(secondRecord.seen_at).toBe(secondRecord.read_at);
    await changeAndCheck(api, model, tabs, 'unread', { filter: {} });
    expect(await api.counts()).toEqual({ unread: 2, unseen: 0, categories: { a: { unread: 2, unseen: 0 } }, seq: expect.any(Number) });
    expect(await changeAndCheck(api, model, tabs, 'seen', { filter: {} })).toBeNull();
    expect((await api.list()).map((item) => item.seen_at)).toEqual([secondRecord.seen_at, firstRecord.seen_at]);
    await closeAll(tabs);
  });

  it("changes only the caller's own notifications, and pushes only to the caller's tabs", async () => {
    const alice = await setUp('alice', ['a', 'a']);
    const bob = await setUp('bob', ['a', null]);
    for (const change of CHANGES) {
      // Bob's ids in alice's request, and every filter of alice's, leave bob's inbox alone.
      expect(await changeAndCheck(alice.api, alice.model, alice.tabs, change, { notification_ids: bob.ids })).toBeNull();
    }
    for (const change of CHANGES) await changeAndCheck(alice.api, alice.model, alice.tabs, change, { filter: {} });
    expect(await bob.api.counts()).toEqual({ unread: 2, unseen: 2, categories: { a: { unread: 1, unseen: 1 } }, seq: 2 });
    expect(await bob.api.listIds()).toEqual([...bob.ids].reverse());
    await expectNoEventsAfter(bob.tabs, 2);
    expect(alice.tabs[0]!.events.length).toBeGreaterThan(2);
    await closeAll([...alice.tabs, ...bob.tabs]);
  });

  it('pushes nothing for a change that changes nothing: empty ids, unknown ids, a filter that matches none', async () => {
    const { api, model, ids, tabs } = await setUp('nothing', ['a', 'b']);
    await changeAndCheck(api, model, tabs, 'read', { notification_ids: [ids[0]!] });
    await changeAndCheck(api, model, tabs, 'archive', { notification_ids: [ids[1]!] });
    const nothing: Array<[Change, Target]> = [
      ['read', { notification_ids: [] }],
      ['read', { notification_ids: ['nope', 'nope-2'] }],
      ['read', { notification_ids: [ids[0]!] }],
      ['read', { filter: { status: 'read' } }],
      ['unread', { filter: { status: 'unread' } }],
      ['unread', { notification_ids: [ids[1]!] }],
      ['seen', { notification_ids: [ids[0]!] }],
      ['archive', { notification_ids: [ids[1]!] }],
      ['unarchive', { notification_ids: [ids[0]!] }],
      ['unarchive', { filter: { category: 'a' } }],
      ['delete', { filter: { category: 'c' } }],
      ['delete', { notification_ids: [] }],
    ];
    for (const [change, target] of nothing) expect(await changeAndCheck(api, model, tabs, change, target)).toBeNull();
    await expectNoEventsAfter(tabs, ids.length + 2);
    await closeAll(tabs);
  });

  it('keeps both tabs and the counts exact over a long random sequence of changes, each event counted at its seq', async () => {
    const next = random(kind === 'sqlite' ? 7 : 11);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
    const categories = ['a', 'b', 'c', null];
    const { api, model, ids, tabs } = await setUp('random', Array.from({ length: 14 }, () => pick(categories)));
    let events = 0;
    for (let step = 0; step < 40; step++) {
      const change = pick(CHANGES.filter((c) => c !== 'delete' || next() < 0.3));
      const target: Target =
        next() < 0.6
          ? { notification_ids: ids.filter(() => next() < 0.3) }
          : { filter: { ...(next() < 0.6 && { category: pick(['a', 'b', 'c']) }), ...(next() < 0.5 && { status: pick(['unread', 'read'] as const) }) } };
      if ((await changeAndCheck(api, model, tabs, change, target)) !== null) events++;
    }
    expect(events).toBeGreaterThan(10);
    for (const archived of ['false', 'true', 'all'] as const) expect(await api.listIds({ archived })).toEqual(model.list({ archived }));
    await expectNoEventsAfter(tabs, ids.length + events);
    await closeAll(tabs);
  });

  it('replays the change events to a tab that resumes from 0 as they were sent live, counts included', async () => {
    const { api, model, ids, tabs } = await setUp('replay', ['a', 'b', null, 'a']);
    await changeAndCheck(api, model, tabs, 'seen', { notification_ids: [ids[0]!] });
    await changeAndCheck(api, model, tabs, 'read', { filter: { category: 'a' } });
    await changeAndCheck(api, model, tabs, 'archive', { notification_ids: [ids[1]!] });
    await changeAndCheck(api, model, tabs, 'unread', { notification_ids: [ids[3]!] });
    await changeAndCheck(api, model, tabs, 'delete', { notification_ids: [ids[2]!] });
    const head = (await api.counts()).seq;
    const live = await eventsOnEveryTab(tabs, head);
    const resumed = await TestClient.open(gateway.wsUrl, await gateway.token(api.userId), 0);
    const replayed = await resumed.waitForSeq(head);
    expect(replayed.slice(ids.length)).toEqual(live.slice(ids.length));
    // The deleted notification's new_notification comes back as its deletion, at the same seq.
    expect(replayed[2]).toEqual({ type: 'notification_deleted', seq: 3, payload: { notification_ids: [ids[2]] } });
    expect(replayed.slice(0, ids.length).filter((_, index) => index !== 2)).toEqual(live.slice(0, ids.length).filter((_, index) => index !== 2));
    await closeAll([...tabs, resumed]);
  });

  it("gives each of a user's concurrent changes its own seq and the counts right after it", async () => {
    const categories = ['a', 'b', 'a', 'b', null, 'a', 'b', 'a'];
    const { api, ids, tabs } = await setUp('concurrent', categories);
    const requests: Array<[Change, Target]> = ids.map((id, index) => [(['seen', 'read', 'archive'] as const)[index % 3]!, { notification_ids: [id] }]);
    requests.push(['read', { filter: { category: 'b' } }], ['delete', { notification_ids: [ids[7]!] }]);
    await Promise.all(requests.map(([change, target]) => api.change(change, target)));
    const head = (await api.counts()).seq;
    const events = (await eventsOnEveryTab(tabs, head)).slice(ids.length);
    expect(events.length).toBe(head - ids.length);

    // Replayed in seq order, each event's ids and change give exactly the counts it carries.
    const replay = new InboxModel();
    ids.forEach((id, index) => replay.add(id, { category: categories[index]! }));
    const changeOf = (event: (typeof events)[number]): Change => {
      if (event.type === 'notification_read') return 'read';
      if (event.type === 'notification_deleted') return 'delete';
      return event.payload.changes.archived_at !== undefined ? 'archive' : 'seen';
    };
    for (const event of events) {
      const change = changeOf(event);
      expect(CHANGE_EVENTS[change]).toBe(event.type);
      expect(replay.apply(change, { notification_ids: event.payload.notification_ids })).toEqual(event.payload.notification_ids);
      expect({ seq: event.seq, counts: event.payload.counts }).toEqual({ seq: event.seq, counts: replay.counts() });
    }
    expect(countsBody(await api.counts())).toEqual(replay.counts());
    await closeAll(tabs);
  });
});

import { fullNotification, type NewNotification } from '@herald/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../helpers/databases.js';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { InboxApi, isoTime, type ItemFields } from '../helpers/inbox-api.js';
import { InboxModel, type Change, type ListFilter, type Target } from '../helpers/inbox-model.js';
import { waitUntil } from '../helpers/wait-until.js';

describe.each(databaseKinds)('inbox v2: records, list filters and counts (%s)', (kind) => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway(kind);
  });
  afterAll(() => gateway.close());

  const inbox = (prefix: string) => new InboxApi(gateway, uniqueUser(prefix));

  /** Applies a change through the API and to the model, and checks that both changed the same ids. */
  async function change(api: InboxApi, model: InboxModel, kind: Change, target: Target): Promise<void> {
    const response = await api.change(kind, target);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toEqual({ notification_ids: model.apply(kind, target) });
  }

  it('lists every field of the record, null or [] when unset, and the live frame filled in is the same record', async () => {
    const api = inbox('record');
    const [tab] = await api.openTabs(1);
    const actions = [
      { id: 'open', label: 'Open the pull request', url: 'https://example.com/pr/1?x=1#y' },
      { id: 'snooze.1h', label: 'Snooze' },
    ];
    const [bare, full] = await api.publish([
      { payload: { title: 'bare' } },
      { payload: { title: 'full', n: [1, 2] }, id: 'k-1', category: 'pull_requests', expires_at: '2099-06-01T12:30:00.5+02:00', actions },
    ]);
    const records = await api.list();
    expect(records).toEqual([
      {
        id: full,
        key: 'k-1',
        category: 'pull_requests',
        status: 'unread',
        seen_at: null,
        read_at: null,
        archived_at: null,
        // Written back as every time is: UTC, milliseconds.
        expires_at: '2099-06-01T10:30:00.500Z',
        created_at: isoTime,
        actions,
        actioned: null,
        payload: { title: 'full', n: [1, 2] },
      },
      {
        id: bare,
        key: null,
        category: null,
        status: 'unread',
        seen_at: null,
        read_at: null,
        archived_at: null,
        expires_at: null,
        created_at: isoTime,
        actions: [],
        actioned: null,
        payload: { title: 'bare' },
      },
    ]);
    const frames = await tab!.waitForSeq(2);
    // A frame leaves out what the producer did not give, so a bare notification has exactly its old fields.
    expect(Object.keys(frames[0]!.payload).sort()).toEqual(['created_at', 'id', 'key', 'payload', 'read_at', 'status']);
    expect(frames.map((frame) => fullNotification(frame.payload as NewNotification))).toEqual([...records].reverse());
    await tab!.close();
  });

  it('sets expires_at ttl_s seconds after the publish, and keeps a time given with any offset as the same instant', async () => {
    const api = inbox('expiry');
    const before = Date.now();
    const given = ['2099-01-01T00:00:00Z', '2099-01-01t05:30:00+05:30', '2098-12-31T19:00:00.000-05:00', '2099-01-01T00:00:00.000000001z'];
    const ids = await api.publish([{ ttl_s: 3600 }, { ttl_s: 315_360_000 }, ...given.map((expires_at) => ({ expires_at }))]);
    const after = Date.now();
    const byId = new Map((await api.list()).map((item) => [item.id, item]));
    for (const [index, ttl] of [3600, 315_360_000].entries()) {
      const expiresAt = Date.parse(byId.get(ids[index]!)!.expires_at);
      expect(expiresAt).toBeGreaterThanOrEqual(before + ttl * 1000 - 1);
      expect(expiresAt).toBeLessThanOrEqual(after + ttl * 1000 + 1);
    }
    // Sub-millisecond digits are cut, as toISOString writes a time.
    for (const id of ids.slice(2)) expect(byId.get(id)!.expires_at).toBe('2099-01-01T00:00:00.000Z');
  });

  it('never lists, counts or changes an expired notification, under any filter', async () => {
    const api = inbox('expired');
    const [past, soon, kept] = await api.publish([
      { category: 'c', expires_at: '2001-01-01T00:00:00Z' },
      { category: 'c', ttl_s: 1 },
      { category: 'c' },
    ]);
    expect(await api.listIds()).toEqual([kept, soon]);
    expect(await api.counts()).toEqual({ unread: 2, unseen: 2, categories: { c: { unread: 2, unseen: 2 } }, seq: 3 });
    await waitUntil(async () => (await api.listIds()).length === 1, 'the one-second notification expires', 5000);

    const filters: ListFilter[] = [{}, { status: 'unread' }, { status: 'all' }, { category: 'c' }, { archived: 'all' }, { archived: 'true' }];
    for (const filter of filters) expect({ filter, ids: await api.listIds(filter) }).toEqual({ filter, ids: filter.archived === 'true' ? [] : [kept] });
    expect(await api.counts()).toEqual({ unread: 1, unseen: 1, categories: { c: { unread: 1, unseen: 1 } }, seq: 3 });
    for (const kind of ['seen', 'read', 'archive', 'delete'] as const) {
      expect((await api.change(kind, { notification_ids: [past!, soon!] })).body).toEqual({ notification_ids: [] });
    }
    expect((await api.change('archive', { filter: { category: 'c' } })).body).toEqual({ notification_ids: [kept] });
    expect(await api.listIds({ archived: 'true' })).toEqual([kept]);
  });

  it('filters by status, category and archived, alone and together, newest first across every page', async () => {
    const api = inbox('filters');
    const model = new InboxModel();
    const categories = ['alerts', 'mentions', undefined, 'alerts', 'mentions', 'alerts', undefined, 'mentions', 'alerts', 'x.y-z_0'];
    const ids = await api.publish(categories.map((category) => (category === undefined ? {} : { category })));
    ids.forEach((id, index) => model.add(id, { category: categories[index] ?? null }));
    await change(api, model, 'read', { notification_ids: [ids[0]!, ids[1]!, ids[2]!, ids[5]!] });
    await change(api, model, 'archive', { notification_ids: [ids[1]!, ids[3]!, ids[6]!, ids[9]!] });
    await change(api, model, 'seen', { notification_ids: [ids[4]!, ids[8]!] });

    let checked = 0;
    for (const status of [undefined, 'all', 'unread', 'read'] as const) {
      for (const category of [undefined, 'alerts', 'mentions', 'x.y-z_0', 'none-such']) {
        for (const archived of [undefined, 'false', 'true', 'all'] as const) {
          const filter: ListFilter = { ...(status && { status }), ...(category && { category }), ...(archived && { archived }) };
          for (const limit of [2, 100]) {
            expect({ filter, limit, ids: await api.listIds(filter, limit) }).toEqual({ filter, limit, ids: model.list(filter) });
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(4 * 5 * 4 * 2);
    // The model is not trivially empty: the default list, the archive and a category's unread each hold some.
    expect(model.list().length).toBe(6);
    expect(model.list({ archived: 'true' }).length).toBe(4);
    expect(model.list({ status: 'unread', category: 'alerts' })).toEqual([ids[8]]);
  });

  it('counts unread and unseen in total and per category, leaving out archived, expired and read ones', async () => {
    const api = inbox('counts');
    const other = inbox('counts-other');
    expect(await api.counts()).toEqual({ unread: 0, unseen: 0, categories: {}, seq: 0 });
    const [a1, a2, a3, b1, none1, none2] = await api.publish([
      { category: 'a' },
      { category: 'a' },
      { category: 'a' },
      { category: 'b' },
      {},
      {},
      { category: 'c', expires_at: '2000-01-01T00:00:00Z' },
    ]);
    await other.publish([{ category: 'a' }, { category: 'z' }]);
    expect(await api.counts()).toEqual({
      unread: 6,
      unseen: 6,
      // Uncategorised ones count in the totals only; the expired one in c counts nowhere, so c is not listed.
      categories: { a: { unread: 3, unseen: 3 }, b: { unread: 1, unseen: 1 } },
      seq: 7,
    });
    await api.change('seen', { notification_ids: [a1!, none1!] });
    await api.change('read', { notification_ids: [a2!] });
    expect(await api.counts()).toEqual({ unread: 5, unseen: 3, categories: { a: { unread: 2, unseen: 1 }, b: { unread: 1, unseen: 1 } }, seq: 9 });
    // Reading b's only notification takes b off the list; archiving one of a leaves a with the rest.
    await api.change('read', { notification_ids: [b1!] });
    await api.change('archive', { notification_ids: [a3!, none2!] });
    expect(await api.counts()).toEqual({ unread: 2, unseen: 0, categories: { a: { unread: 1, unseen: 0 } }, seq: 11 });
    // A read notification that is marked unread again counts as unread, and stays seen.
    await api.change('unread', { notification_ids: [b1!] });
    expect(await api.counts()).toEqual({ unread: 3, unseen: 0, categories: { a: { unread: 1, unseen: 0 }, b: { unread: 1, unseen: 0 } }, seq: 12 });
    await api.change('unarchive', { notification_ids: [a3!] });
    expect(await api.counts()).toEqual({ unread: 4, unseen: 1, categories: { a: { unread: 2, unseen: 1 }, b: { unread: 1, unseen: 0 } }, seq: 13 });
    await api.change('delete', { filter: { category: 'a' } });
    expect(await api.counts()).toEqual({ unread: 2, unseen: 0, categories: { b: { unread: 1, unseen: 0 } }, seq: 14 });
    expect(await other.counts()).toEqual({ unread: 2, unseen: 2, categories: { a: { unread: 1, unseen: 1 }, z: { unread: 1, unseen: 1 } }, seq: 2 });
  });

  it("counts with the user's latest seq, task updates and changes included, and counts what the model counts", async () => {
    const api = inbox('seq');
    const model = new InboxModel();
    const fields: ItemFields[] = [{ category: 'a' }, {}, { category: 'b' }];
    const ids = await api.publish(fields);
    ids.forEach((id, index) => model.add(id, { category: fields[index]!.category ?? null }));
    await gateway.publish({ user_id: api.userId, type: 'task_update', payload: { action: 'created', task: { id: 1 } } });
    expect(await api.counts()).toEqual({ ...model.counts(), seq: 4 });
    await change(api, model, 'read', { filter: { category: 'a' } });
    expect(await api.counts()).toEqual({ ...model.counts(), seq: 5 });
    // Nothing changed: no event, so the seq stays.
    await change(api, model, 'read', { filter: { category: 'a' } });
    expect(await api.counts()).toEqual({ ...model.counts(), seq: 5 });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../helpers/databases.js';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { countsBody, eventsOnEveryTab, InboxApi, isoTime } from '../helpers/inbox-api.js';
import { expectNoEventsAfter } from '../helpers/inbox-steps.js';
import type { TestClient } from '../helpers/ws-client.js';

const ACTIONS = [
  { id: 'approve', label: 'Approve', url: 'https://example.com/approve' },
  { id: 'Deny_2.x-y', label: 'Deny' },
];

describe.each(databaseKinds)('inbox v2: actions on a notification (%s)', (kind) => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway(kind);
  });
  afterAll(() => gateway.close());

  /** A user with two tabs and one notification with ACTIONS (category "c"), plus one without actions. */
  async function setUp(prefix: string) {
    const api = new InboxApi(gateway, uniqueUser(prefix));
    const tabs = await api.openTabs(2);
    const [withActions, without] = await api.publish([{ category: 'c', actions: ACTIONS }, {}]);
    await eventsOnEveryTab(tabs, 2);
    return { api, tabs, id: withActions!, without: without! };
  }

  const closeAll = (tabs: readonly TestClient[]) => Promise.all(tabs.map((tab) => tab.close()));

  it('records the action, answers with it, shows it on the record and tells both tabs with the counts at its seq', async () => {
    const { api, tabs, id } = await setUp('act');
    const response = await api.act(id, 'Deny_2.x-y');
    expect(response).toEqual({ status: 200, body: { notification_id: id, actioned: { id: 'Deny_2.x-y', at: isoTime } } });
    const { actioned } = response.body;
    const counts = await api.counts();
    expect(counts.seq).toBe(3);
    const events = await eventsOnEveryTab(tabs, 3);
    expect(events.at(-1)).toEqual({
      type: 'notification_updated',
      seq: 3,
      payload: { notification_ids: [id], changes: { actioned }, counts: countsBody(counts) },
    });
    // Taking an action neither reads nor archives: the record keeps its status, and only gains `actioned`.
    expect(await api.record(id)).toMatchObject({ status: 'unread', seen_at: null, archived_at: null, actions: ACTIONS, actioned });
    expect(countsBody(counts)).toEqual({ unread: 2, unseen: 2, categories: { c: { unread: 1, unseen: 1 } } });
    await closeAll(tabs);
  });

  it('answers a repeat of the same action with the first record of it, and pushes nothing', async () => {
    const { api, tabs, id } = await setUp('repeat');
    const first = await api.act(id, 'approve');
    expect(first.status).toBe(200);
    for (let attempt = 0; attempt < 3; attempt++) expect(await api.act(id, 'approve')).toEqual(first);
    expect((await api.counts()).seq).toBe(3);
    expect((await api.record(id)).actioned).toEqual(first.body.actioned);
    await expectNoEventsAfter(tabs, 3);
    await closeAll(tabs);
  });

  it('refuses another action once one was taken (409 conflict), and keeps the first', async () => {
    const { api, tabs, id } = await setUp('conflict');
    const first = await api.act(id, 'approve');
    const second = await api.act(id, 'Deny_2.x-y');
    expect(second.status).toBe(409);
    expect(second.body).toEqual({ error: 'conflict', message: expect.stringContaining('approve') });
    expect((await api.record(id)).actioned).toEqual(first.body.actioned);
    // The first action can still be repeated.
    expect(await api.act(id, 'approve')).toEqual(first);
    await expectNoEventsAfter(tabs, 3);
    await closeAll(tabs);
  });

  it('records exactly one of several actions taken at once; the others are refused or repeats of it', async () => {
    const { api, tabs, id } = await setUp('race');
    const attempts = ['approve', 'Deny_2.x-y', 'approve', 'Deny_2.x-y', 'approve', 'Deny_2.x-y'];
    const responses = await Promise.all(attempts.map((action) => api.act(id, action)));
    const recorded = (await api.record(id)).actioned;
    expect(recorded).toEqual({ id: expect.any(String), at: isoTime });
    for (const [index, response] of responses.entries()) {
      const expected = attempts[index] === recorded.id ? { status: 200, body: { notification_id: id, actioned: recorded } } : { status: 409, body: expect.objectContaining({ error: 'conflict' }) };
      expect({ action: attempts[index], response }).toEqual({ action: attempts[index], response: expected });
    }
    expect((await api.counts()).seq).toBe(3);
    const events = await eventsOnEveryTab(tabs, 3);
    expect(events.at(-1)!.payload.changes).toEqual({ actioned: recorded });
    await expectNoEventsAfter(tabs, 3);
    await closeAll(tabs);
  });

  it("answers 404 for an unknown notification or action, another user's, a deleted or an expired one, and pushes nothing", async () => {
    const { api, tabs, id, without } = await setUp('missing');
    const other = new InboxApi(gateway, uniqueUser('missing-other'));
    const [othersId] = await other.publish([{ actions: ACTIONS }]);
    const [expired] = await api.publish([{ actions: ACTIONS, expires_at: '2001-01-01T00:00:00Z' }]);
    const [deleted] = await api.publish([{ actions: ACTIONS }]);
    expect((await api.change('delete', { notification_ids: [deleted!] })).body).toEqual({ notification_ids: [deleted] });
    const head = (await api.counts()).seq;

    const cases: Array<[string, string, string]> = [
      ['an unknown notification', 'no-such-notification', 'approve'],
      ["another user's notification", othersId!, 'approve'],
      ['an expired notification', expired!, 'approve'],
      ['a deleted notification', deleted!, 'approve'],
      ['an unknown action', id, 'reject'],
      ['an action id in another case', id, 'APPROVE'],
      ['a notification without actions', without, 'approve'],
    ];
    for (const [name, notificationId, actionId] of cases) {
      const response = await api.act(notificationId, actionId);
      expect({ name, status: response.status, error: response.body.error }).toEqual({ name, status: 404, error: 'not_found' });
    }
    expect((await api.counts()).seq).toBe(head);
    expect((await other.record(othersId!)).actioned).toBeNull();
    expect((await api.record(id)).actioned).toBeNull();
    await expectNoEventsAfter(tabs, head);
    await closeAll(tabs);
  });

  it('takes an action on an archived or read notification, and keeps it through archive, unarchive and mark-unread', async () => {
    const { api, tabs, id } = await setUp('archived');
    await api.change('archive', { notification_ids: [id] });
    await api.change('read', { notification_ids: [id] });
    const response = await api.act(id, 'approve');
    expect(response.status).toBe(200);
    await api.change('unarchive', { notification_ids: [id] });
    await api.change('unread', { notification_ids: [id] });
    expect(await api.record(id)).toMatchObject({ status: 'unread', archived_at: null, actioned: response.body.actioned });
    await closeAll(tabs);
  });
});

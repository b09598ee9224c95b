import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Notification, StreamFrame } from '@herald/protocol';
import { countsAfter } from '../src/inbox-counts.js';
import { applyToList, type InboxView } from '../src/inbox-list.js';
import { newNotificationFrame, record } from './scripted-herald.js';

const NOW = Date.UTC(2026, 5, 1);
const INBOX: InboxView = { category: null, archived: false };

describe('applyToList', () => {
  const [a, b] = [record({ category: 'a' }), record({ category: 'b', status: 'read', read_at: '2026-01-01T00:00:00.000Z', seen_at: '2026-01-01T00:00:00.000Z' })];

  it('puts a new notification first, with every field, once', () => {
    const frame = newNotificationFrame(1, record({ category: 'a' })) as StreamFrame;
    const { list } = applyToList([a], frame, INBOX, NOW);
    expect(list[0]).toEqual({ ...(frame.payload as Notification), seen_at: null, archived_at: null, expires_at: null, actions: [], actioned: null });
    expect(applyToList(list, frame, INBOX, NOW).list).toBe(list);
  });

  it('keeps a new notification out of a view it is not in: another category, the archive, expired', () => {
    const views: InboxView[] = [{ category: 'b', archived: false }, { category: null, archived: true }];
    for (const view of views) expect(applyToList([], newNotificationFrame(1, record({ category: 'a' })) as StreamFrame, view, NOW).list).toEqual([]);
    const expired = record({ expires_at: new Date(NOW).toISOString() });
    expect(applyToList([], newNotificationFrame(1, expired) as StreamFrame, INBOX, NOW).list).toEqual([]);
  });

  it('marks read (and seen), sets changed fields, and removes the deleted and the archived', () => {
    const read = applyToList([a, b], { type: 'notification_read', seq: 1, payload: { notification_ids: [a.id] } }, INBOX, NOW).list;
    expect(read[0]).toMatchObject({ status: 'read', read_at: new Date(NOW).toISOString(), seen_at: new Date(NOW).toISOString() });
    const unread = applyToList(read, { type: 'notification_updated', seq: 2, payload: { notification_ids: [a.id], changes: { status: 'unread', read_at: null } } }, INBOX, NOW).list;
    expect(unread[0]).toMatchObject({ status: 'unread', read_at: null });
    const archived = applyToList(unread, { type: 'notification_updated', seq: 3, payload: { notification_ids: [b.id], changes: { archived_at: 'x' } } }, INBOX, NOW);
    expect(archived).toEqual({ list: [unread[0]], stale: false });
    const deleted = applyToList(unread, { type: 'notification_deleted', seq: 4, payload: { notification_ids: [a.id] } }, INBOX, NOW);
    expect(deleted.list).toEqual([b]);
  });

  it('says a list is stale when a notification it lacks moves into its view', () => {
    const moved = (archivedAt: string | null, view: InboxView) =>
      applyToList([a], { type: 'notification_updated', seq: 1, payload: { notification_ids: ['other'], changes: { archived_at: archivedAt } } }, view, NOW).stale;
    expect(moved(null, INBOX)).toBe(true);
    expect(moved('x', { category: null, archived: true })).toBe(true);
    expect(moved('x', INBOX)).toBe(false);
    expect(moved(null, { category: null, archived: true })).toBe(false);
  });

  it('changes nothing the second time an event is applied, for every kind of event (so a raced load can replay them)', () => {
    const ids = [a.id, b.id, 'absent'];
    const someIds = fc.subarray(ids, { minLength: 1 });
    const event: fc.Arbitrary<StreamFrame> = fc.oneof(
      fc.constantFrom(...[record(), record({ category: 'a' })].map((item) => newNotificationFrame(1, item) as StreamFrame)),
      someIds.map((notification_ids) => ({ type: 'notification_read', seq: 1, payload: { notification_ids } }) as const),
      fc.constant({ type: 'all_read', seq: 1, payload: {} } as const),
      fc.record({
        notification_ids: someIds,
        changes: fc.oneof(
          fc.constant({ status: 'unread' as const, read_at: null }),
          fc.constant({ seen_at: '2026-02-01T00:00:00.000Z' }),
          fc.constant({ archived_at: '2026-02-01T00:00:00.000Z' }),
          fc.constant({ archived_at: null }),
          fc.constant({ actioned: { id: 'ok', at: '2026-02-01T00:00:00.000Z' } }),
        ),
      }).map((payload) => ({ type: 'notification_updated', seq: 1, payload }) as const),
      someIds.map((notification_ids) => ({ type: 'notification_deleted', seq: 1, payload: { notification_ids } }) as const),
    );
    const view = fc.record({ category: fc.constantFrom(null, 'a'), archived: fc.boolean() });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 6 }), event, view, (before, frame, shown) => {
        const list = before.reduce((current, earlier) => applyToList(current, earlier, shown, NOW).list, [a, b].filter((item) => shown.category === null || item.category === shown.category) as readonly Notification[]);
        const once = applyToList(list, frame, shown, NOW).list;
        expect(applyToList(once, frame, shown, NOW).list).toEqual(once);
      }),
    );
  });
});

describe('countsAfter', () => {
  const start = { unread: 2, unseen: 1, categories: { a: { unread: 2, unseen: 1 } } };

  it('counts a new notification in the total and its category, an uncategorised one in the total only', () => {
    expect(countsAfter(start, newNotificationFrame(5, record({ category: 'a' })) as StreamFrame, NOW)).toEqual({
      unread: 3,
      unseen: 2,
      categories: { a: { unread: 3, unseen: 2 } },
    });
    expect(countsAfter(start, newNotificationFrame(5, record({ category: 'new' })) as StreamFrame, NOW)).toMatchObject({
      categories: { a: { unread: 2, unseen: 1 }, new: { unread: 1, unseen: 1 } },
    });
    expect(countsAfter(start, newNotificationFrame(5, record()) as StreamFrame, NOW)).toEqual({ ...start, unread: 3, unseen: 2 });
  });

  it.each([
    ['notification_read', { notification_ids: ['x'] }],
    ['all_read', {}],
    ['notification_updated', { notification_ids: ['x'], changes: { seen_at: 'x' } }],
    ['notification_deleted', { notification_ids: ['x'] }],
  ] as const)('takes the counts a %s carries, and asks for a reload without them', (type, payload) => {
    const carried = { unread: 0, unseen: 0, categories: {} };
    expect(countsAfter(start, { type, seq: 9, payload: { ...payload, counts: carried } } as StreamFrame, NOW)).toBe(carried);
    expect(countsAfter(start, { type, seq: 9, payload } as StreamFrame, NOW)).toBe('reload');
  });

  it('leaves the counts alone for an action taken, a task update and an expired new notification', () => {
    const actioned: StreamFrame = { type: 'notification_updated', seq: 9, payload: { notification_ids: ['x'], changes: { actioned: { id: 'a', at: 'x' } } } };
    expect(countsAfter(start, actioned, NOW)).toBe('unchanged');
    expect(countsAfter(start, { type: 'task_update', seq: 9, payload: { action: 'x', task: {} } }, NOW)).toBe('unchanged');
    const expired = record({ expires_at: new Date(NOW - 1).toISOString() });
    expect(countsAfter(start, newNotificationFrame(9, expired) as StreamFrame, NOW)).toBe('unchanged');
  });
});

import { expect } from 'vitest';
import { CHANGE_EVENTS, countsBody, eventsOnEveryTab, isoTime, type InboxApi } from './inbox-api.js';
import type { Change, InboxModel, Target } from './inbox-model.js';
import type { Frame, TestClient } from './ws-client.js';

/** The `changes` a notification_updated carries for each change (notification_read and _deleted carry none). */
const EXPECTED_CHANGES: Partial<Record<Change, unknown>> = {
  seen: { seen_at: isoTime },
  unread: { status: 'unread', read_at: null },
  archive: { archived_at: isoTime },
  unarchive: { archived_at: null },
};

/**
 * Makes one change through the API and to the model, and checks the whole contract of it: the answer lists the ids
 * the model changed; the counts are the model's; when something changed, exactly one event went to every tab, at
 * the next seq, with those ids, the change and the counts that GET /notifications/counts gives at that seq; when
 * nothing changed, no event (the seq stays). Returns the event, or null.
 */
export async function changeAndCheck(api: InboxApi, model: InboxModel, tabs: readonly TestClient[], change: Change, target: Target): Promise<Frame | null> {
  const before = await api.counts();
  const response = await api.change(change, target);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  const expected = model.apply(change, target);
  expect({ change, target, body: response.body }).toEqual({ change, target, body: { notification_ids: expected } });
  const after = await api.counts();
  expect({ change, counts: countsBody(after) }).toEqual({ change, counts: model.counts() });
  if (expected.length === 0) {
    expect(after.seq).toBe(before.seq);
    return null;
  }
  expect(after.seq).toBe(before.seq + 1);
  const event = (await eventsOnEveryTab(tabs, after.seq)).at(-1)!;
  const changes = EXPECTED_CHANGES[change];
  expect(event).toEqual({
    type: CHANGE_EVENTS[change],
    seq: after.seq,
    payload: { notification_ids: expected, ...(changes !== undefined && { changes }), counts: countsBody(after) },
  });
  return event;
}

/** Waits a moment and checks that no tab holds a stream event past `seq`: what was not pushed stays unpushed. */
export async function expectNoEventsAfter(tabs: readonly TestClient[], seq: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 150));
  for (const tab of tabs) expect(tab.events.map((event) => event.seq).filter((s) => s! > seq)).toEqual([]);
}

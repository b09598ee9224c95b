import type { AppendPlan } from './append-plan.js';
import type { InboxLimits } from './store.js';

/** What an Appender reads beside a user's last seq, for the limits. */
export interface StreamState {
  /** The stream's events up to this seq were removed already. */
  floorSeq: number;
  notificationCount: number;
}

/**
 * Rows one append removes per user at most, however far past a limit the user is (after the limit was lowered):
 * an append holds the user's write lock, so it must never turn into a long delete. Each later append of the
 * user removes as many again, and so does the retention sweep, until the user is within the limit.
 */
export const TRIM_PER_APPEND = 1_000;

/** What an append writes to a user's stream row, and removes, so that the user stays within the limits. */
export interface StreamUpdate {
  userId: string;
  lastSeq: number;
  /** The new floor: the events up to it are removed. Equal to the old floor when none are. */
  floorSeq: number;
  /** The user's notifications after the append's inserts, before the oldest ones are removed. */
  notificationCount: number;
  /** How many of the user's oldest notifications to remove. */
  removeOldest: number;
}

/**
 * The stream rows that an append writes, one per user that got an event (in the plan's order), with what each
 * removes: the events older than the newest `maxEventsPerUser`, and the notifications past the newest
 * `maxNotificationsPerUser`, the oldest first, at most TRIM_PER_APPEND of each.
 */
export function planStreamUpdates(plan: AppendPlan, states: ReadonlyMap<string, StreamState>, limits: InboxLimits): StreamUpdate[] {
  const added = new Map<string, number>();
  for (const row of plan.notificationRows) added.set(row.user_id, (added.get(row.user_id) ?? 0) + 1);
  const updates: StreamUpdate[] = [];
  for (const [userId, lastSeq] of plan.newLastSeqs) {
    const state = states.get(userId);
    if (state === undefined) throw new Error(`append plan: no stream state was read for user ${JSON.stringify(userId)}`);
    const wantedFloor = lastSeq - limits.maxEventsPerUser;
    const floorSeq = wantedFloor > state.floorSeq ? Math.min(wantedFloor, state.floorSeq + TRIM_PER_APPEND) : state.floorSeq;
    const notificationCount = state.notificationCount + (added.get(userId) ?? 0);
    const removeOldest = Math.min(Math.max(0, notificationCount - limits.maxNotificationsPerUser), TRIM_PER_APPEND);
    updates.push({ userId, lastSeq, floorSeq, notificationCount, removeOldest });
  }
  return updates;
}

/**
 * The plan of an append, the same for every database and free of any: given a batch, each of its users' last seq
 * and which of its keys their users already have stored, it decides which inputs are repeats, numbers the others
 * and builds their rows. An Appender reads those two things under its write lock (batchUsers and batchKeys say
 * which), hands them to planAppend, and writes the rows and last seqs it gets back.
 *
 * A new column of events or notifications: the table in schema.ts and a migration (migrations/), then its value in
 * the row builder (event-rows.ts, one edit: the plan passes rows through whole), then the insert of each
 * implementation: its name in the table's column list in sqlite-appender.ts (EVENT_COLUMNS, NOTIFICATION_COLUMNS;
 * the build fails until it is there), and nothing in postgres-appender.ts (Kysely inserts the rows as built).
 */
import { eventRows, type EventRow, type NotificationRow } from './event-rows.js';
import type { AppendInput, StoredEvent } from './store.js';

/** Keys by user id. */
export type KeysByUser = ReadonlyMap<string, ReadonlySet<string>>;

/** What an Appender read from its database, under its write lock, for one batch. */
export interface StoredState {
  /** The last seq of every user of the batch (batchUsers), 0 for a user with no event yet. */
  lastSeqs: ReadonlyMap<string, number>;
  /** Which of the batch's keys (batchKeys) their users already have stored; pairs not stored are simply absent. */
  storedKeys: KeysByUser;
}

export interface AppendPlan {
  /** Aligned with the inputs: the event each one stores, or null for a repeat, which stores nothing. */
  results: (StoredEvent | null)[];
  /** The rows to insert, in input order. */
  eventRows: EventRow[];
  notificationRows: NotificationRow[];
  /**
   * The new last seq of each user that got an event, in the order of their first input. Only those have one to
   * write: a batch of repeats (a Kafka batch consumed again after a crash) writes nothing.
   */
  newLastSeqs: Map<string, number>;
}

/**
 * Plans the batch in input order: an input whose key its user already has stored, or had earlier in this batch,
 * is a repeat: left out, and it takes no seq, so nothing has to be given back. Every other input takes its
 * user's next seq. `createdAt` is the whole batch's (batchTimestamp), as it is stored in one transaction.
 */
export function planAppend(inputs: readonly AppendInput[], stored: StoredState, createdAt: string): AppendPlan {
  const plan: AppendPlan = { results: [], eventRows: [], notificationRows: [], newLastSeqs: new Map() };
  const seenInBatch = new Map<string, Set<string>>();
  for (const input of inputs) {
    const { userId, key } = input;
    if (key !== null) {
      if (stored.storedKeys.get(userId)?.has(key) === true || !addKey(seenInBatch, userId, key)) {
        plan.results.push(null);
        continue;
      }
    }
    const seq = (plan.newLastSeqs.get(userId) ?? lastSeqOf(stored, userId)) + 1;
    plan.newLastSeqs.set(userId, seq);
    const { event, eventRow, notificationRow } = eventRows(input, seq, createdAt);
    plan.results.push(event);
    plan.eventRows.push(eventRow);
    if (notificationRow !== null) plan.notificationRows.push(notificationRow);
  }
  return plan;
}

/** The batch's users, each once, in the order of their first input: whose last seq an Appender reads. */
export function batchUsers(inputs: readonly AppendInput[]): string[] {
  return [...new Set(inputs.map((input) => input.userId))];
}

/** The batch's (user, key) pairs, each once, keyless inputs left out: which an Appender looks up as stored. */
export function batchKeys(inputs: readonly AppendInput[]): (readonly [userId: string, key: string])[] {
  const keys = new Map<string, Set<string>>();
  const pairs: (readonly [string, string])[] = [];
  for (const { userId, key } of inputs) {
    if (key !== null && addKey(keys, userId, key)) pairs.push([userId, key]);
  }
  return pairs;
}

/** Adds `key` to the user's keys in `keys`; false when it was there already. */
export function addKey(keys: Map<string, Set<string>>, userId: string, key: string): boolean {
  let own = keys.get(userId);
  if (own === undefined) {
    own = new Set();
    keys.set(userId, own);
  } else if (own.has(key)) {
    return false;
  }
  own.add(key);
  return true;
}

function lastSeqOf(stored: StoredState, userId: string): number {
  const lastSeq = stored.lastSeqs.get(userId);
  // An Appender that did not read a user's last seq would number from nothing: fail the batch instead.
  if (lastSeq === undefined) throw new Error(`append plan: no last seq was read for user ${JSON.stringify(userId)}`);
  return lastSeq;
}

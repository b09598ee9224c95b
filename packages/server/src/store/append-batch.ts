import { sql, type Insertable, type Transaction } from 'kysely';
import { chunks } from './chunks.js';
import { batchTimestamp, eventRows } from './event-rows.js';
import type { Database, EventsTable, NotificationsTable } from './schema.js';
import type { AppendInput, StoredEvent } from './store.js';

/**
 * Rows per multi-row statement. With at most 8 columns a row that is 8,000 bound parameters, far below SQLite's
 * limit (32,766) and PostgreSQL's (65,535); a batch of hundreds of items is one statement per table.
 */
export const ROWS_PER_STATEMENT = 1_000;

type Trx = Transaction<Database>;

/**
 * Appends a batch with a constant number of statements per ROWS_PER_STATEMENT rows, not three per item:
 *
 * 1. lock the streams of the batch's users, in user id order, and read their last_seq;
 * 2. under those locks, read which of the batch's (user, key) pairs are already stored;
 * 3. in memory, skip those and the repeats within the batch, and number the rest from last_seq in input order;
 * 4. insert the events, then the notifications, then write each user's new last_seq.
 *
 * A skipped item never takes a seq, so nothing has to be given back. Run inside a transaction.
 */
export async function appendBatch(trx: Trx, inputs: readonly AppendInput[]): Promise<StoredEvent[]> {
  const userIds = [...new Set(inputs.map((input) => input.userId))].sort(compare);
  const lastSeqs = await lockStreams(trx, userIds);
  const plan = planBatch(inputs, lastSeqs, await storedKeys(trx, inputs));
  // Plain inserts, not ON CONFLICT DO NOTHING: under the stream locks no other writer can have stored these
  // keys or seqs, and if one somehow had, failing the batch beats leaving a gap.
  for (const chunk of chunks(plan.eventRows, ROWS_PER_STATEMENT)) {
    await trx.insertInto('events').values(chunk).execute();
  }
  for (const chunk of chunks(plan.notificationRows, ROWS_PER_STATEMENT)) {
    await trx.insertInto('notifications').values(chunk).execute();
  }
  const advanced = userIds.filter((userId) => plan.lastSeqs.get(userId) !== lastSeqs.get(userId));
  await advanceStreams(trx, advanced.map((userId) => [userId, plan.lastSeqs.get(userId)!]));
  return plan.events;
}

interface BatchPlan {
  /** The events to store and return, in input order. */
  events: StoredEvent[];
  eventRows: Insertable<EventsTable>[];
  notificationRows: Insertable<NotificationsTable>[];
  /** Each user's last_seq once the batch is stored. */
  lastSeqs: Map<string, number>;
}

/**
 * Numbers the batch in input order: an item whose key its user already has stored, or had earlier in this
 * batch, is left out and takes no seq; every other item takes its user's next seq. One timestamp for the batch,
 * which is stored in one transaction. `seenKeys` starts as the keys already stored and gains the batch's own.
 */
function planBatch(
  inputs: readonly AppendInput[],
  lastSeqs: ReadonlyMap<string, number>,
  seenKeys: Map<string, Set<string>>,
): BatchPlan {
  const plan: BatchPlan = { events: [], eventRows: [], notificationRows: [], lastSeqs: new Map(lastSeqs) };
  const createdAt = batchTimestamp();
  for (const input of inputs) {
    if (input.key !== null) {
      const keys = seenKeys.get(input.userId) ?? new Set<string>();
      if (keys.has(input.key)) continue;
      keys.add(input.key);
      seenKeys.set(input.userId, keys);
    }
    const seq = plan.lastSeqs.get(input.userId)! + 1;
    plan.lastSeqs.set(input.userId, seq);
    const { event, eventRow, notificationRow } = rowsOf(input, seq, createdAt);
    plan.events.push(event);
    plan.eventRows.push(eventRow);
    if (notificationRow !== null) plan.notificationRows.push(notificationRow);
  }
  return plan;
}

/**
 * Creates the users' stream rows where missing and returns each user's last_seq, taking the rows' locks with a
 * no-op update. PostgreSQL locks the rows of one statement in VALUES order, and the chunks run in order, so every
 * batch locks in ascending user id order: two batches naming the same users in opposite orders cannot deadlock.
 */
async function lockStreams(trx: Trx, sortedUserIds: readonly string[]): Promise<Map<string, number>> {
  const lastSeqs = new Map<string, number>();
  for (const chunk of chunks(sortedUserIds, ROWS_PER_STATEMENT)) {
    const rows = await trx
      .insertInto('user_streams')
      .values(chunk.map((userId) => ({ user_id: userId, last_seq: 0 })))
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ last_seq: sql<number>`user_streams.last_seq` }))
      .returning(['user_id', 'last_seq'])
      .execute();
    for (const row of rows) lastSeqs.set(row.user_id, row.last_seq);
  }
  return lastSeqs;
}

/** Writes the users' new last_seq. Every row exists (lockStreams made it) and is locked by this transaction. */
async function advanceStreams(trx: Trx, heads: readonly (readonly [string, number])[]): Promise<void> {
  for (const chunk of chunks(heads, ROWS_PER_STATEMENT)) {
    // An upsert that always conflicts: a multi-row UPDATE that SQLite and PostgreSQL both take, typed by the table.
    await trx
      .insertInto('user_streams')
      .values(chunk.map(([userId, lastSeq]) => ({ user_id: userId, last_seq: lastSeq })))
      .onConflict((oc) => oc.column('user_id').doUpdateSet((eb) => ({ last_seq: eb.ref('excluded.last_seq') })))
      .execute();
  }
}

/** The keys among the inputs' that their users already have stored, by user. Run under the stream locks. */
async function storedKeys(trx: Trx, inputs: readonly AppendInput[]): Promise<Map<string, Set<string>>> {
  const pairs = new Map<string, Set<string>>();
  for (const { userId, key } of inputs) {
    if (key === null) continue;
    const keys = pairs.get(userId) ?? new Set<string>();
    keys.add(key);
    pairs.set(userId, keys);
  }
  const wanted = [...pairs].flatMap(([userId, keys]) => [...keys].map((key) => [userId, key] as const));
  const found = new Map<string, Set<string>>();
  for (const chunk of chunks(wanted, ROWS_PER_STATEMENT)) {
    // A row-value IN over a VALUES list, since SQLite takes only a subquery on the right of a row-value IN.
    // SQLite probes the (user_id, key) unique index; PostgreSQL does too once events is large (a nested loop over
    // the index at 1M rows) and hashes a sequential scan while the table is small enough for that to be cheaper.
    const values = sql.join(chunk.map(([userId, key]) => sql`(${userId}, ${key})`));
    const rows = await trx
      .selectFrom('events')
      .select(['user_id', 'key'])
      .where(sql<boolean>`(user_id, key) in (values ${values})`)
      .execute();
    for (const row of rows) {
      const keys = found.get(row.user_id) ?? new Set<string>();
      keys.add(row.key!);
      found.set(row.user_id, keys);
    }
  }
  return found;
}

function rowsOf(
  input: AppendInput,
  seq: number,
  createdAt: string,
): { event: StoredEvent; eventRow: Insertable<EventsTable>; notificationRow: Insertable<NotificationsTable> | null } {
  const { event, notification } = eventRows(input, seq, createdAt);
  const { userId, type, key } = input;
  const eventRow = { user_id: userId, seq, type, key, payload: event.payloadJson, created_at: createdAt };
  if (notification === null) return { event, eventRow, notificationRow: null };
  const notificationRow = {
    id: notification.id,
    user_id: userId,
    seq,
    key,
    status: 'unread' as const,
    created_at: createdAt,
    read_at: null,
    payload: notification.payloadJson,
  };
  return { event, eventRow, notificationRow };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

import { sql, type Kysely, type Transaction } from 'kysely';
import { addKey, batchKeys, batchUsers, planAppend, type KeysByUser } from './append-plan.js';
import type { Appender, AppendResults } from './appender.js';
import { chunks } from './chunks.js';
import { batchTimestamp } from './event-rows.js';
import type { Database } from './schema.js';
import type { AppendInput, InboxLimits } from './store.js';
import { planStreamUpdates, type StreamState, type StreamUpdate } from './trim-plan.js';
import { deleteOldestNotifications } from './user-rows.js';

/**
 * Rows per multi-row statement. With at most 16 columns a row that is 16,000 bound parameters, far below
 * PostgreSQL's limit (65,535); a batch of hundreds of items is one statement per table.
 */
export const ROWS_PER_STATEMENT = 1_000;

type Trx = Transaction<Database>;

/**
 * Append on PostgreSQL (see Appender for why it differs from SQLite's): a constant number of statements per
 * ROWS_PER_STATEMENT rows, not three per item, in one transaction:
 *
 * 1. lock the streams of the batch's users, in user id order, and read their last_seq;
 * 2. under those locks, read which of the batch's (user, key) pairs are already stored;
 * 3. plan the batch (planAppend: repeats skipped, the rest numbered from last_seq in input order);
 * 4. insert the events, then the notifications, then write each user's new last_seq;
 * 5. remove what a user past HERALD_MAX_NOTIFICATIONS_PER_USER no longer keeps (planStreamUpdates).
 */
export class PostgresAppender implements Appender {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly limits: InboxLimits,
  ) {}

  append(inputs: readonly AppendInput[]): Promise<AppendResults> {
    return this.db.transaction().execute((trx) => appendInTransaction(trx, inputs, this.limits));
  }
}

async function appendInTransaction(trx: Trx, inputs: readonly AppendInput[], limits: InboxLimits): Promise<AppendResults> {
  const { lastSeqs, states } = await lockStreams(trx, batchUsers(inputs).sort(compare));
  const plan = planAppend(inputs, { lastSeqs, storedKeys: await storedKeys(trx, batchKeys(inputs)) }, batchTimestamp());
  // Plain inserts, not ON CONFLICT DO NOTHING: under the stream locks no other writer can have stored these
  // keys or seqs, and if one somehow had, failing the batch beats leaving a gap.
  for (const chunk of chunks(plan.eventRows, ROWS_PER_STATEMENT)) {
    await trx.insertInto('events').values(chunk).execute();
  }
  for (const chunk of chunks(plan.notificationRows, ROWS_PER_STATEMENT)) {
    await trx.insertInto('notifications').values(chunk).execute();
  }
  const updates = planStreamUpdates(plan, states, limits);
  const removed = await trimStreams(trx, updates, states);
  await advanceStreams(trx, updates, removed);
  return plan.results;
}

/**
 * Removes what each user past a limit no longer keeps: the events up to the new floor, the oldest notifications
 * past the limit. Returns how many notifications each user lost. Rare (only users at a limit), so one statement
 * per user and table is fine.
 */
async function trimStreams(trx: Trx, updates: readonly StreamUpdate[], states: ReadonlyMap<string, StreamState>): Promise<Map<string, number>> {
  const removed = new Map<string, number>();
  for (const { userId, floorSeq, removeOldest } of updates) {
    if (floorSeq > states.get(userId)!.floorSeq) {
      await trx.deleteFrom('events').where('user_id', '=', userId).where('seq', '<=', floorSeq).execute();
    }
    if (removeOldest > 0) {
      removed.set(userId, await deleteOldestNotifications(trx, userId, removeOldest));
    }
  }
  return removed;
}

/**
 * Creates the users' stream rows where missing and returns each user's last_seq, taking the rows' locks with a
 * no-op update. PostgreSQL locks the rows of one statement in VALUES order, and the chunks run in order, so every
 * batch locks in ascending user id order: two batches naming the same users in opposite orders cannot deadlock.
 */
async function lockStreams(
  trx: Trx,
  sortedUserIds: readonly string[],
): Promise<{ lastSeqs: Map<string, number>; states: Map<string, StreamState> }> {
  const lastSeqs = new Map<string, number>();
  const states = new Map<string, StreamState>();
  for (const chunk of chunks(sortedUserIds, ROWS_PER_STATEMENT)) {
    const rows = await trx
      .insertInto('user_streams')
      .values(chunk.map((userId) => ({ user_id: userId, last_seq: 0 })))
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ last_seq: sql<number>`user_streams.last_seq` }))
      .returning(['user_id', 'last_seq', 'floor_seq', 'notification_count'])
      .execute();
    for (const row of rows) {
      lastSeqs.set(row.user_id, row.last_seq);
      states.set(row.user_id, { floorSeq: row.floor_seq, notificationCount: row.notification_count });
    }
  }
  return { lastSeqs, states };
}

/**
 * Writes the users' new last_seq. Every row exists (lockStreams made it) and is locked by this transaction
 * already, so the order of these writes cannot cause a deadlock.
 */
async function advanceStreams(trx: Trx, updates: readonly StreamUpdate[], removed: ReadonlyMap<string, number>): Promise<void> {
  for (const chunk of chunks(updates, ROWS_PER_STATEMENT)) {
    // An upsert that always conflicts: a multi-row UPDATE typed by the table.
    await trx
      .insertInto('user_streams')
      .values(
        chunk.map((update) => ({
          user_id: update.userId,
          last_seq: update.lastSeq,
          floor_seq: update.floorSeq,
          notification_count: update.notificationCount - (removed.get(update.userId) ?? 0),
        })),
      )
      .onConflict((oc) =>
        oc.column('user_id').doUpdateSet((eb) => ({
          last_seq: eb.ref('excluded.last_seq'),
          floor_seq: eb.ref('excluded.floor_seq'),
          notification_count: eb.ref('excluded.notification_count'),
        })),
      )
      .execute();
  }
}

/** Which of the (user, key) pairs their users already have stored. Run under the stream locks. */
async function storedKeys(trx: Trx, pairs: readonly (readonly [string, string])[]): Promise<KeysByUser> {
  const found = new Map<string, Set<string>>();
  for (const chunk of chunks(pairs, ROWS_PER_STATEMENT)) {
    // One probe of the (user_id, key) unique index per pair, whatever the table's size: a LATERAL subquery with
    // LIMIT 1 leaves the planner no other join. A row-value IN over the same VALUES list was planned as a hash join
    // over a sequential scan of the whole stream while it was small enough to look cheap: 25 ms a batch of 500 at
    // 60,000 events against 3.5 ms for the probes (BENCHMARKS.md, "Schema v2, before and after").
    const values = sql.join(chunk.map(([userId, key]) => sql`(${userId}, ${key})`));
    const { rows } = await sql<{ user_id: string; key: string }>`
      select stored.user_id, stored.key
      from (values ${values}) as wanted (user_id, key)
      cross join lateral (
        select user_id, key from events where events.user_id = wanted.user_id and events.key = wanted.key limit 1
      ) as stored
    `.execute(trx);
    for (const row of rows) addKey(found, row.user_id, row.key);
  }
  return found;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { Migrator } from 'kysely/migration';
import type { Notification, StreamEventType } from '@herald/protocol';
import type { Appender } from './appender.js';
import { chunks } from './chunks.js';
import { eventsRow } from './event-rows.js';
import { migrationProvider } from './migrations/index.js';
import type { Database, EventsTable, NotificationsTable } from './schema.js';
import {
  EVENTS_PAGE_BYTES,
  LIST_PAGE_BYTES,
  type AppendInput,
  type ListQuery,
  type NotificationPage,
  type Store,
  type StoredEvent,
  type UnreadCount,
} from './store.js';

/** Ids per UPDATE ... IN (...): far below SQLite's and PostgreSQL's bound-parameter limits. */
const IN_LIST_CHUNK = 500;

type Trx = Transaction<Database>;
type EventRow = Pick<Selectable<EventsTable>, 'user_id' | 'seq' | 'type' | 'payload' | 'created_at'>;

/**
 * The Store over Kysely: the same queries for SQLite and PostgreSQL, so both keep the same guarantees; append
 * alone is each database's own (an Appender), planned the same for both (append-plan.ts).
 *
 * Every write of a user first takes that user's user_streams row (the upsert that bumps last_seq, or a no-op
 * update when the write may turn out to change nothing). On PostgreSQL that row lock serialises the user's
 * writers until commit, so seqs come out 1, 2, 3 with no gap; on SQLite the single connection does the same.
 * Taking it first, always, and a batch's users in user id order, keeps the lock order the same in every
 * transaction, so they cannot deadlock.
 */
export class SqlStore implements Store {
  readonly #db: Kysely<Database>;
  readonly #appender: Appender;
  readonly #release: () => void;
  #closed = false;

  /**
   * `appender` appends on the same database as `db` (see Appender for why there is one per database); `release`
   * runs after Kysely is destroyed, for what Kysely does not own.
   */
  constructor(db: Kysely<Database>, appender: Appender, release: () => void = () => {}) {
    this.#db = db;
    this.#appender = appender;
    this.#release = release;
  }

  async migrate(): Promise<void> {
    const { error } = await new Migrator({ db: this.#db, provider: migrationProvider }).migrateToLatest();
    if (error !== undefined) throw error;
  }

  async append(inputs: readonly AppendInput[]): Promise<StoredEvent[]> {
    if (inputs.length === 0) return [];
    const results = await this.#appender.append(inputs);
    return results.filter((event): event is StoredEvent => event !== null);
  }

  async markRead(userId: string, ids: readonly string[]): Promise<StoredEvent | null> {
    const wanted = [...new Set(ids)];
    if (wanted.length === 0) return null;
    return this.#db.transaction().execute(async (trx) => {
      await lockStream(trx, userId);
      const readAt = now();
      const changed = new Set<string>();
      for (const chunk of chunks(wanted, IN_LIST_CHUNK)) {
        // The user_id and status conditions make other users' ids, unknown ids and read ones match nothing,
        // so the caller learns only which of its own notifications changed.
        const rows = await trx
          .updateTable('notifications')
          .set({ status: 'read', read_at: readAt })
          .where('user_id', '=', userId)
          .where('status', '=', 'unread')
          .where('id', 'in', chunk)
          .returning('id')
          .execute();
        for (const row of rows) changed.add(row.id);
      }
      if (changed.size === 0) return null;
      const notificationIds = wanted.filter((id) => changed.has(id));
      return appendUserEvent(trx, userId, 'notification_read', { notification_ids: notificationIds });
    });
  }

  async markAllRead(userId: string): Promise<StoredEvent | null> {
    return this.#db.transaction().execute(async (trx) => {
      await lockStream(trx, userId);
      const result = await trx
        .updateTable('notifications')
        .set({ status: 'read', read_at: now() })
        .where('user_id', '=', userId)
        .where('status', '=', 'unread')
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) return null;
      return appendUserEvent(trx, userId, 'all_read', {});
    });
  }

  async eventsAfter(userId: string, since: number, limit: number, maxBytes = EVENTS_PAGE_BYTES): Promise<StoredEvent[]> {
    if (limit < 1) return [];
    const budget = budgetOf(maxBytes);
    // One read of the rows with their sizes (octet_length reads a value's length, not the value), bringing only
    // the payloads that are small enough that `limit` of them stay within the budget: a page of such events is
    // one plain read, and whatever lies past a page's cut never holds more than the budget together.
    // Bound as an integer (octet_length's type on PostgreSQL); no value is anywhere near 2 GiB.
    const small = Math.max(1, Math.min(2 ** 31 - 1, Math.floor(budget / limit)));
    const rows = await this.#db
      .selectFrom('events')
      .select(['user_id', 'seq', 'type', 'created_at', octetLength, sql<string | null>`case when octet_length(payload) <= ${small} then payload end`.as('payload')])
      .where('user_id', '=', userId)
      .where('seq', '>', since)
      .orderBy('seq', 'asc')
      .limit(limit)
      .execute();
    const page = withinBudget(rows, budget);
    // The larger payloads of the page itself, by seq; those past the cut are never read. Events never change
    // once stored, so a second statement reads what the first one sized.
    const large = page.filter((row) => row.payload === null).map((row) => row.seq);
    if (large.length > 0) {
      const texts = await this.#db.selectFrom('events').select(['seq', 'payload']).where('user_id', '=', userId).where('seq', 'in', large).execute();
      const bySeq = new Map(texts.map((text) => [text.seq, text.payload]));
      for (const row of page) row.payload ??= bySeq.get(row.seq)!;
    }
    // Every payload on the page is filled in now.
    return page.map((row) => toStoredEvent(row as EventRow));
  }

  async headSeq(userId: string): Promise<number> {
    const row = await this.#db
      .selectFrom('user_streams')
      .select('last_seq')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row?.last_seq ?? 0;
  }

  async listNotifications(userId: string, query: ListQuery): Promise<NotificationPage> {
    const { status, beforeSeq, limit } = query;
    if (limit < 1) return { items: [], nextBeforeSeq: null };
    const inbox = this.#db
      .selectFrom('notifications')
      .where('user_id', '=', userId)
      .$if(status !== 'all', (qb) => qb.where('status', '=', status as NotificationsTable['status']))
      .$if(beforeSeq !== undefined, (qb) => qb.where('seq', '<', beforeSeq!));
    // The sizes of one row more than the page tell where the page ends and whether another exists; then the page's
    // rows alone are read whole, in the same statement (one snapshot). A row fits while the running total stays
    // within the budget, and the first row always does.
    const rows = await this.#db
      .with('head', () => inbox.select(['seq', octetLength]).orderBy('seq', 'desc').limit(limit + 1))
      .with('sized', (db) =>
        db
          .selectFrom('head')
          .select([
            'seq',
            sql<number>`row_number() over (order by seq desc)`.as('n'),
            sql<number>`sum(size) over (order by seq desc rows unbounded preceding)`.as('total'),
          ]),
      )
      .with('page', (db) =>
        db
          .selectFrom('sized')
          .select('seq')
          .where('n', '<=', limit)
          .where((eb) => eb.or([eb('n', '=', 1), eb('total', '<=', budgetOf(query.maxBytes ?? LIST_PAGE_BYTES))])),
      )
      .selectFrom(inbox.selectAll().as('inbox'))
      .selectAll()
      .where('seq', '>=', (eb) => eb.selectFrom('page').select((sub) => sub.fn.min('seq').as('oldest')))
      // Rows are newest first: what did not fit is older than the page's oldest.
      .select((eb) =>
        eb.exists(eb.selectFrom('sized').select('seq').where('seq', '<', eb.selectFrom('page').select((sub) => sub.fn.min('seq').as('oldest')))).as('more'),
      )
      .orderBy('seq', 'desc')
      .execute();
    const last = rows.at(-1);
    return {
      items: rows.map(toNotification),
      // exists() is a boolean on PostgreSQL, 0 or 1 on SQLite.
      nextBeforeSeq: last !== undefined && Boolean(last.more) ? last.seq : null,
    };
  }

  async unreadCount(userId: string): Promise<UnreadCount> {
    // One statement, so PostgreSQL reads both from one snapshot: the count is exactly the state at head_seq.
    const row = await this.#db
      .selectNoFrom((eb) => [
        eb
          .selectFrom('notifications')
          .select((sub) => sub.fn.countAll().as('count'))
          .where('user_id', '=', userId)
          .where('status', '=', 'unread')
          .as('count'),
        eb.selectFrom('user_streams').select('last_seq').where('user_id', '=', userId).as('head_seq'),
      ])
      .executeTakeFirstOrThrow();
    // Both databases hand back numbers (the PostgreSQL pool reads int8 as one, create-store.ts); Kysely types
    // count(*) as string | number | bigint all the same.
    return { count: Number(row.count ?? 0), headSeq: Number(row.head_seq ?? 0) };
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new Error('the store is closed');
    await sql`select 1`.execute(this.#db);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#db.destroy();
    this.#release();
  }
}

/** A row's payload size in bytes, read from the row's header: the value itself is not loaded (nor detoasted). */
const octetLength = sql<number>`octet_length(payload)`.as('size');

/**
 * The rows of a page: up to the first one at which the sizes of the rows before it reach the budget (the first row
 * has none before it, so it is always on the page).
 */
function withinBudget<Row extends { size: number }>(rows: Row[], budget: number): Row[] {
  let before = 0;
  for (const [index, row] of rows.entries()) {
    if (before >= budget) return rows.slice(0, index);
    before += row.size;
  }
  return rows;
}

/** A page's byte budget as the queries bind it: a whole number, at least 1 so that the first row always fits. */
function budgetOf(maxBytes: number): number {
  return Math.max(1, Math.floor(Math.min(maxBytes, Number.MAX_SAFE_INTEGER)));
}

/** Appends an event of the user's own making (no key, so never deduplicated). */
async function appendUserEvent(
  trx: Trx,
  userId: string,
  type: StreamEventType,
  payload: Record<string, unknown>,
): Promise<StoredEvent> {
  const seq = await nextSeq(trx, userId);
  const createdAt = now();
  const event = { userId, seq, type, payload, payloadJson: JSON.stringify(payload), createdAt };
  await trx.insertInto('events').values(eventsRow(event, null)).execute();
  return event;
}

/** Takes the user's next seq; on PostgreSQL the row stays locked until the transaction ends. */
async function nextSeq(trx: Trx, userId: string): Promise<number> {
  const row = await trx
    .insertInto('user_streams')
    .values({ user_id: userId, last_seq: 1 })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ last_seq: sql<number>`user_streams.last_seq + 1` }))
    .returning('last_seq')
    .executeTakeFirstOrThrow();
  return row.last_seq;
}

/**
 * Locks the user's stream row without changing it (SELECT ... FOR UPDATE does not exist in SQLite), for writes
 * that may end up appending nothing. A user without the row has no notifications, so there is nothing to lock.
 */
async function lockStream(trx: Trx, userId: string): Promise<void> {
  await trx
    .updateTable('user_streams')
    .set((eb) => ({ last_seq: eb.ref('last_seq') }))
    .where('user_id', '=', userId)
    .execute();
}

function toStoredEvent(row: EventRow): StoredEvent {
  return {
    userId: row.user_id,
    seq: row.seq,
    type: row.type,
    payload: parsePayload(row.payload),
    // The stored text is what the frame carries: a replay does not serialise the payload again.
    payloadJson: row.payload,
    createdAt: row.created_at,
  };
}

function toNotification(row: Selectable<NotificationsTable>): Notification {
  return {
    id: row.id,
    key: row.key,
    status: row.status,
    created_at: row.created_at,
    read_at: row.read_at,
    payload: parsePayload(row.payload),
  };
}

function parsePayload(text: string): Record<string, unknown> {
  return JSON.parse(text) as Record<string, unknown>;
}

function now(): string {
  return new Date().toISOString();
}

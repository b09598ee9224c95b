import { sql, type Kysely } from 'kysely';
import { Migrator } from 'kysely/migration';
import type { Appender } from './appender.js';
import { changeInTransaction, eraseInTransaction, markAllReadInTransaction, recordActionInTransaction } from './inbox-writes.js';
import { migrationProvider } from './migrations/index.js';
import { NOTIFICATION_COLUMNS, notExpired, now, readCounts, streamRows } from './reads.js';
import { toInboxItem, toStoredEvent } from './record-rows.js';
import type { Database, NotificationsTable } from './schema.js';
import {
  EVENTS_PAGE_BYTES,
  LIST_PAGE_BYTES,
  type ActionResult,
  type AppendInput,
  type ChangeResult,
  type InboxChange,
  type InboxCounts,
  type ListQuery,
  type NotificationPage,
  type NotificationTarget,
  type Store,
  type StoredEvent,
  type StreamBounds,
  type SweepOptions,
  type SweepResult,
  type UnreadCount,
} from './store.js';
import { sweepOnce } from './sweep.js';

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
  readonly #release: () => void | Promise<void>;
  #closed = false;

  /**
   * `appender` appends on the same database as `db` (see Appender for why there is one per database); `release`
   * runs after Kysely is destroyed, for what Kysely does not own.
   */
  constructor(db: Kysely<Database>, appender: Appender, release: () => void | Promise<void> = () => {}) {
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

  markRead(userId: string, ids: readonly string[]): Promise<StoredEvent | null> {
    return this.#db.transaction().execute(async (trx) => (await changeInTransaction(trx, userId, 'read', { ids })).events[0] ?? null);
  }

  markAllRead(userId: string): Promise<StoredEvent | null> {
    return this.#db.transaction().execute((trx) => markAllReadInTransaction(trx, userId));
  }

  changeNotifications(userId: string, change: InboxChange, target: NotificationTarget): Promise<ChangeResult> {
    return this.#db.transaction().execute((trx) => changeInTransaction(trx, userId, change, target));
  }

  recordAction(userId: string, notificationId: string, actionId: string): Promise<ActionResult> {
    return this.#db.transaction().execute((trx) => recordActionInTransaction(trx, userId, notificationId, actionId));
  }

  eraseUser(userId: string): Promise<boolean> {
    return this.#db.transaction().execute((trx) => eraseInTransaction(trx, userId));
  }

  sweep(options: SweepOptions): Promise<SweepResult> {
    return sweepOnce(this.#db, options);
  }

  async eventsAfter(userId: string, since: number, limit: number, maxBytes = EVENTS_PAGE_BYTES): Promise<StoredEvent[]> {
    if (limit < 1) return [];
    const budget = budgetOf(maxBytes);
    // One read of the rows with their sizes (payload_bytes, stored beside each row), bringing only the payloads
    // that are small enough that `limit` of them stay within the budget: a page of such events is one plain read,
    // and whatever lies past a page's cut never holds more than the budget together.
    const small = Math.max(1, Math.min(2 ** 31 - 1, Math.floor(budget / limit)));
    const rows = await streamRows(this.#db, userId, small)
      .where('e.seq', '>', since)
      .orderBy('e.seq', 'asc')
      .limit(limit)
      .execute();
    const page = withinBudget(rows, budget);
    // The larger payloads of the page itself, by seq; those past the cut are never read. A second statement may
    // find a notification deleted since the first: it is replayed as deleted, which is what it is by then.
    const large = page.filter((row) => row.payload === null && row.n_payload === null).map((row) => row.seq);
    if (large.length > 0) {
      const whole = await streamRows(this.#db, userId, null).where('e.seq', 'in', large).execute();
      const bySeq = new Map(whole.map((row) => [row.seq, row]));
      for (const [index, row] of page.entries()) if (bySeq.has(row.seq)) page[index] = bySeq.get(row.seq)!;
    }
    return page.map(toStoredEvent);
  }

  async headSeq(userId: string): Promise<number> {
    return (await this.streamBounds(userId)).headSeq;
  }

  async streamBounds(userId: string): Promise<StreamBounds> {
    const row = await this.#db
      .selectFrom('user_streams')
      .select(['last_seq', 'floor_seq'])
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return { headSeq: row?.last_seq ?? 0, floorSeq: row?.floor_seq ?? 0 };
  }

  async listNotifications(userId: string, query: ListQuery): Promise<NotificationPage> {
    const { status, beforeSeq, limit, category } = query;
    const archived = query.archived ?? 'false';
    if (limit < 1) return { items: [], nextBeforeSeq: null };
    const inbox = this.#db
      .selectFrom('notifications')
      .where('user_id', '=', userId)
      .where(notExpired(now()))
      // A literal, not a bound value, as the partial indexes' WHERE terms are (SQLite matches them only so).
      .$if(status !== 'all', (qb) => qb.where('status', '=', sql.lit(status as NotificationsTable['status'])))
      .$if(category !== undefined, (qb) => qb.where('category', '=', category!))
      .$if(archived !== 'all', (qb) => qb.where('archived_at', archived === 'true' ? 'is not' : 'is', null))
      .$if(beforeSeq !== undefined, (qb) => qb.where('seq', '<', beforeSeq!));
    // The sizes of one row more than the page tell where the page ends and whether another exists; then the page's
    // rows alone are read whole, in the same statement (one snapshot). A row fits while the running total stays
    // within the budget, and the first row always does.
    const rows = await this.#db
      .with('head', () => inbox.select(['seq', 'payload_bytes as size']).orderBy('seq', 'desc').limit(limit + 1))
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
      .selectFrom(inbox.select(NOTIFICATION_COLUMNS).select('seq').as('inbox'))
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
      items: rows.map(toInboxItem),
      // exists() is a boolean on PostgreSQL, 0 or 1 on SQLite.
      nextBeforeSeq: last !== undefined && Boolean(last.more) ? last.seq : null,
    };
  }

  async unreadCount(userId: string): Promise<UnreadCount> {
    const { unread, headSeq } = await this.counts(userId);
    return { count: unread, headSeq };
  }

  counts(userId: string): Promise<InboxCounts> {
    return readCounts(this.#db, userId);
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new Error('the store is closed');
    await sql`select 1`.execute(this.#db);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#db.destroy();
    await this.#release();
  }
}


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

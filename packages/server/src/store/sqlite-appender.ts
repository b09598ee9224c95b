import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { addKey, batchKeys, batchUsers, planAppend } from './append-plan.js';
import type { Appender, AppendResults } from './appender.js';
import { batchTimestamp, type EventRow, type NotificationRow } from './event-rows.js';
import type { Database, EventsTable, NotificationsTable } from './schema.js';
import type { AppendInput, InboxLimits } from './store.js';
import { planStreamUpdates, type StreamState } from './trim-plan.js';

/**
 * The columns each insert writes, in the order of its parameters: a new column is one more name here, and the
 * build fails until every column of the table's type (schema.ts) is named. Bound by position: binding the rows by
 * name (`@user_id`) cost ~10% more CPU per append, better-sqlite3 looking each name up on every row.
 */
const EVENT_COLUMNS = allColumns<EventsTable>()(['user_id', 'seq', 'type', 'key', 'notification_id', 'payload', 'payload_bytes', 'created_at']);
const NOTIFICATION_COLUMNS = allColumns<NotificationsTable>()([
  'id',
  'user_id',
  'seq',
  'key',
  'category',
  'status',
  'seen_at',
  'read_at',
  'archived_at',
  'expires_at',
  'created_at',
  'actions',
  'actioned_id',
  'actioned_at',
  'payload',
  'payload_bytes',
]);

export interface SqliteAppenderOptions {
  /** The longest a large append runs before it lets the event loop turn, in ms. */
  sliceMs?: number;
}

/**
 * A slice's length: short enough that a node draining a backlog keeps accepting connections (one per turn; ~150
 * a second measured, other stretches of the drain holding the rest), long enough that the turns cost nothing.
 */
const SLICE_MS = 2;

/**
 * Batches up to this size are appended in one go, the loop held throughout: a few dozen statements take well under
 * a slice, and an HTTP publish (one item, or a group of them) pays nothing for the slicing.
 */
const AT_ONCE_INPUTS = 32;

/** A user's stream row, read under the alias names of StreamState so that the row itself is the user's state. */
interface StreamRow extends StreamState {
  lastSeq: number;
}

interface Statements {
  head: BetterSqlite3.Statement<[string], StreamRow>;
  createStream: BetterSqlite3.Statement<[string]>;
  keyStored: BetterSqlite3.Statement<[string, string], number>;
  insertEvent: (row: EventRow) => void;
  insertNotification: (row: NotificationRow) => void;
  advance: BetterSqlite3.Statement<[number, number, number, string]>;
  trimStream: BetterSqlite3.Statement<[string, number]>;
  removeOldest: BetterSqlite3.Statement<[string, string, number]>;
  begin: BetterSqlite3.Statement<[]>;
  commit: BetterSqlite3.Statement<[]>;
  rollback: BetterSqlite3.Statement<[]>;
}

/**
 * Append on SQLite without a query builder (see Appender for why it differs from PostgreSQL's): statements
 * prepared once and run row by row inside one synchronous transaction. No lock order is needed: SQLite has one
 * writer, and BEGIN IMMEDIATE takes the write lock up front, so another process's writer cannot slip in between
 * the reads and the writes.
 *
 * `db` is the connection that `kysely` runs its queries on: each append takes Kysely's connection first, so it
 * never runs inside another query's open transaction (a markRead awaiting its next statement), and no other query
 * runs inside its own.
 *
 * A large batch (a Kafka batch of thousands) is one transaction run in slices of at most `sliceMs`, with a turn of
 * the event loop between slices. Run at once, 5,000 records held the loop for about 0.3 s, and Node (libuv)
 * accepts one new connection per turn of its loop: while a backlog drained, the node took about five new
 * connections a second (BENCHMARKS.md, Kafka). Between slices the transaction stays open and Kysely's connection
 * stays taken, so readers and other writers of this node wait for the commit as they did before, while sockets,
 * timers and handshakes go on.
 */
export class SqliteAppender implements Appender {
  #statements: Statements | undefined;
  readonly #transaction: BetterSqlite3.Transaction<(inputs: readonly AppendInput[]) => AppendResults>;
  readonly #sliceMs: number;

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly kysely: Kysely<Database>,
    private readonly limits: InboxLimits,
    options: SqliteAppenderOptions = {},
  ) {
    this.#transaction = db.transaction((inputs: readonly AppendInput[]) => runToEnd(this.#appendSteps(inputs)));
    this.#sliceMs = options.sliceMs ?? SLICE_MS;
  }

  append(inputs: readonly AppendInput[]): Promise<AppendResults> {
    if (inputs.length <= AT_ONCE_INPUTS) return this.kysely.connection().execute(async () => this.#transaction.immediate(inputs));
    return this.kysely.connection().execute(() => this.#appendSliced(inputs));
  }

  /** One transaction over several turns of the event loop: BEGIN IMMEDIATE, slices of steps, COMMIT. */
  async #appendSliced(inputs: readonly AppendInput[]): Promise<AppendResults> {
    const statements = (this.#statements ??= this.#prepare());
    const steps = this.#appendSteps(inputs);
    statements.begin.run();
    try {
      let sliceEnd = performance.now() + this.#sliceMs;
      for (;;) {
        const step = steps.next();
        if (step.done) {
          statements.commit.run();
          return step.value;
        }
        if (performance.now() >= sliceEnd) {
          await nextTurn();
          sliceEnd = performance.now() + this.#sliceMs;
        }
      }
    } finally {
      // Whatever failed (a statement, the commit), nothing of the batch stays: the caller's retry starts clean.
      if (this.db.inTransaction) statements.rollback.run();
    }
  }

  /** The append, one statement per step: run to its end at once, or in slices (see #appendSliced). */
  *#appendSteps(inputs: readonly AppendInput[]): Generator<void, AppendResults> {
    const statements = (this.#statements ??= this.#prepare());
    const lastSeqs = new Map<string, number>();
    const states = new Map<string, StreamState>();
    for (const userId of batchUsers(inputs)) {
      const head = this.#headOf(statements, userId);
      lastSeqs.set(userId, head.lastSeq);
      states.set(userId, head);
      yield;
    }
    const storedKeys = new Map<string, Set<string>>();
    for (const [userId, key] of batchKeys(inputs)) {
      if (statements.keyStored.get(userId, key) !== undefined) addKey(storedKeys, userId, key);
      yield;
    }
    const plan = planAppend(inputs, { lastSeqs, storedKeys }, batchTimestamp());
    yield;
    for (const row of plan.eventRows) {
      statements.insertEvent(row);
      yield;
    }
    for (const row of plan.notificationRows) {
      statements.insertNotification(row);
      yield;
    }
    for (const update of planStreamUpdates(plan, states, this.limits)) {
      const { userId, floorSeq } = update;
      if (floorSeq > states.get(userId)!.floorSeq) statements.trimStream.run(userId, floorSeq);
      const removed = update.removeOldest > 0 ? statements.removeOldest.run(userId, userId, update.removeOldest).changes : 0;
      statements.advance.run(update.lastSeq, floorSeq, update.notificationCount - removed, userId);
      yield;
    }
    return plan.results;
  }

  /** The user's stream row, created first for a user never seen. */
  #headOf(statements: Statements, userId: string): StreamRow {
    const head = statements.head.get(userId);
    if (head !== undefined) return head;
    statements.createStream.run(userId);
    return { lastSeq: 0, floorSeq: 0, notificationCount: 0 };
  }

  /** Prepared on first use, after the migrations made the tables. */
  #prepare(): Statements {
    const { db } = this;
    return {
      head: db.prepare<[string], StreamRow>(`select last_seq as "lastSeq", floor_seq as "floorSeq", notification_count as "notificationCount" from user_streams where user_id = ?`),
      createStream: db.prepare<[string]>('insert into user_streams (user_id, last_seq) values (?, 0)'),
      keyStored: db.prepare<[string, string], number>('select 1 from events where user_id = ? and key = ?').pluck(),
      insertEvent: rowInsert(db, 'events', EVENT_COLUMNS),
      insertNotification: rowInsert(db, 'notifications', NOTIFICATION_COLUMNS),
      advance: db.prepare<[number, number, number, string]>(
        'update user_streams set last_seq = ?, floor_seq = ?, notification_count = ? where user_id = ?',
      ),
      trimStream: db.prepare<[string, number]>('delete from events where user_id = ? and seq <= ?'),
      removeOldest: db.prepare<[string, string, number]>(
        'delete from notifications where user_id = ? and seq in (select seq from notifications where user_id = ? order by seq limit ?)',
      ),
      begin: db.prepare<[]>('begin immediate'),
      commit: db.prepare<[]>('commit'),
      rollback: db.prepare<[]>('rollback'),
    };
  }
}

/** Runs a generator of steps to its end and returns what it returns. */
function runToEnd<Result>(steps: Generator<void, Result>): Result {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Inserts a whole row into `table`, one parameter per name of `columns`, in that order. */
function rowInsert<Row extends object>(db: BetterSqlite3.Database, table: string, columns: readonly (keyof Row & string)[]): (row: Row) => void {
  const statement = db.prepare<unknown[]>(
    `insert into ${table} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`,
  );
  // One array for every row: run() binds the values and runs the insert before it returns.
  const values: unknown[] = [];
  return (row) => {
    for (let index = 0; index < columns.length; index++) values[index] = row[columns[index]!];
    statement.run(values);
  };
}

/** `columns` as given, when they name every column of `Row`; otherwise a type error that names the missing ones. */
function allColumns<Row>() {
  return <const Columns extends readonly (keyof Row & string)[]>(
    columns: Columns & ([Exclude<keyof Row, Columns[number]>] extends [never] ? unknown : { missing: Exclude<keyof Row, Columns[number]> }),
  ): Columns => columns;
}

import type BetterSqlite3 from 'better-sqlite3';
import { addKey, batchKeys, batchUsers, planAppend } from './append-plan.js';
import type { AppendResults } from './appender.js';
import { batchTimestamp, type EventRow, type NotificationRow } from './event-rows.js';
import type { EventsTable, NotificationsTable } from './schema.js';
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
 * An append on one SQLite connection, as statements prepared once and run row by row (see Appender for why SQLite
 * appends without a query builder). It knows nothing of when it runs: SqliteAppender runs it on Kysely's
 * connection, at once or in slices, and the append thread (append-thread.ts) on a connection of its own. No lock
 * order is needed: SQLite has one writer, and BEGIN IMMEDIATE takes the write lock up front, so another
 * connection's writer cannot slip in between the reads and the writes.
 */
export class SqliteAppendSteps {
  readonly #statements: Statements;
  readonly #transaction: BetterSqlite3.Transaction<(inputs: readonly AppendInput[]) => AppendResults>;

  /** `db` must have Herald's tables already (the migrations have run). */
  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly limits: InboxLimits,
  ) {
    this.#statements = SqliteAppendSteps.#prepare(db);
    this.#transaction = db.transaction((inputs: readonly AppendInput[]) => runToEnd(this.steps(inputs)));
  }

  /** The whole append in one synchronous BEGIN IMMEDIATE transaction. */
  runAtOnce(inputs: readonly AppendInput[]): AppendResults {
    return this.#transaction.immediate(inputs);
  }

  begin(): void {
    this.#statements.begin.run();
  }

  commit(): void {
    this.#statements.commit.run();
  }

  /** Rolls back the transaction begin() opened, if it is still open. */
  rollbackIfOpen(): void {
    if (this.db.inTransaction) this.#statements.rollback.run();
  }

  /** The append, one statement per step, between begin and commit: run to its end at once, or in slices. */
  *steps(inputs: readonly AppendInput[]): Generator<void, AppendResults> {
    const statements = this.#statements;
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

  /** Prepared once the migrations have made the tables. */
  static #prepare(db: BetterSqlite3.Database): Statements {
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

import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { addKey, batchKeys, batchUsers, planAppend } from './append-plan.js';
import type { Appender, AppendResults } from './appender.js';
import { batchTimestamp } from './event-rows.js';
import type { Database, EventsTable, NotificationsTable } from './schema.js';
import type { AppendInput } from './store.js';

/**
 * The columns each insert writes, in the order of its parameters: a new column is one more name here, and the
 * build fails until every column of the table's type (schema.ts) is named. Bound by position: binding the rows by
 * name (`@user_id`) cost ~10% more CPU per append, better-sqlite3 looking each name up on every row.
 */
const EVENT_COLUMNS = allColumns<EventsTable>()(['user_id', 'seq', 'type', 'key', 'payload', 'created_at']);
const NOTIFICATION_COLUMNS = allColumns<NotificationsTable>()([
  'id',
  'user_id',
  'seq',
  'key',
  'status',
  'created_at',
  'read_at',
  'payload',
]);

interface Statements {
  head: BetterSqlite3.Statement<[string], number>;
  createStream: BetterSqlite3.Statement<[string]>;
  keyStored: BetterSqlite3.Statement<[string, string], number>;
  insertEvent: (row: EventsTable) => void;
  insertNotification: (row: NotificationsTable) => void;
  advance: BetterSqlite3.Statement<[number, string]>;
}

/**
 * Append on SQLite without a query builder (see Appender for why it differs from PostgreSQL's): six statements
 * prepared once and run row by row inside one synchronous transaction. No lock order is needed: SQLite has one
 * writer, and BEGIN IMMEDIATE takes the write lock up front, so another process's writer cannot slip in between
 * the reads and the writes.
 *
 * `db` is the connection that `kysely` runs its queries on: each append takes Kysely's connection first, so it
 * never runs inside another query's open transaction (a markRead awaiting its next statement).
 */
export class SqliteAppender implements Appender {
  #statements: Statements | undefined;
  readonly #transaction: BetterSqlite3.Transaction<(inputs: readonly AppendInput[]) => AppendResults>;

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly kysely: Kysely<Database>,
  ) {
    this.#transaction = db.transaction((inputs: readonly AppendInput[]) => this.#appendAll(inputs));
  }

  append(inputs: readonly AppendInput[]): Promise<AppendResults> {
    return this.kysely.connection().execute(async () => this.#transaction.immediate(inputs));
  }

  #appendAll(inputs: readonly AppendInput[]): AppendResults {
    const statements = (this.#statements ??= this.#prepare());
    const lastSeqs = new Map<string, number>();
    for (const userId of batchUsers(inputs)) lastSeqs.set(userId, this.#headOf(statements, userId));
    const storedKeys = new Map<string, Set<string>>();
    for (const [userId, key] of batchKeys(inputs)) {
      if (statements.keyStored.get(userId, key) !== undefined) addKey(storedKeys, userId, key);
    }
    const plan = planAppend(inputs, { lastSeqs, storedKeys }, batchTimestamp());
    for (const row of plan.eventRows) statements.insertEvent(row);
    for (const row of plan.notificationRows) statements.insertNotification(row);
    for (const [userId, lastSeq] of plan.newLastSeqs) statements.advance.run(lastSeq, userId);
    return plan.results;
  }

  /** The user's last seq, creating the stream row first (events reference it) for a user never seen. */
  #headOf(statements: Statements, userId: string): number {
    const head = statements.head.get(userId);
    if (head !== undefined) return head;
    statements.createStream.run(userId);
    return 0;
  }

  /** Prepared on first use, after the migrations made the tables. */
  #prepare(): Statements {
    const { db } = this;
    return {
      head: db.prepare<[string], number>('select last_seq from user_streams where user_id = ?').pluck(),
      createStream: db.prepare<[string]>('insert into user_streams (user_id, last_seq) values (?, 0)'),
      keyStored: db.prepare<[string, string], number>('select 1 from events where user_id = ? and key = ?').pluck(),
      insertEvent: rowInsert(db, 'events', EVENT_COLUMNS),
      insertNotification: rowInsert(db, 'notifications', NOTIFICATION_COLUMNS),
      advance: db.prepare<[number, string]>('update user_streams set last_seq = ? where user_id = ?'),
    };
  }
}

/** Inserts a whole row into `table`, one parameter per name of `columns`, in that order. */
function rowInsert<Row>(db: BetterSqlite3.Database, table: string, columns: readonly (keyof Row & string)[]): (row: Row) => void {
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

import { Kysely, PostgresDialect, SqliteDialect, type Dialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { GroupCommit } from './group-commit.js';
import { openSqlite, type SqliteSynchronous } from './open-sqlite.js';
import { SqliteAppender } from './sqlite-appender.js';
import { SqlStore } from './sql-store.js';
import { withStatementCache } from './statement-cache.js';
import type { Store } from './store.js';

export interface CreateStoreOptions {
  /**
   * Called when an idle PostgreSQL connection fails (the server restarted, the network dropped). The pool drops
   * that connection and opens another on the next query; the default is to ignore it, since ping() reports
   * an unreachable database.
   */
  onPoolError?: (error: Error) => void;
  /** SQLite only: `full` (the default) syncs the WAL on every commit; `normal` leaves it to checkpoints. */
  sqliteSynchronous?: SqliteSynchronous;
}

/** How long a query waits for a PostgreSQL connection before it fails, so that ping() cannot hang. */
const PG_CONNECT_TIMEOUT_MS = 5_000;
/** Distinct SQL texts kept prepared; Herald's queries have a few dozen shapes, batch appends one per size. */
const SQLITE_CACHED_STATEMENTS = 1_000;
/**
 * Items per group commit on SQLite. Past a few hundred items the commit's fixed cost is amortised already, and a
 * larger group only holds the event loop longer (every tab's delivery waits for the synchronous transaction).
 */
const SQLITE_GROUP_ITEMS = 1_000;

/**
 * A Store for a database URL: `postgres://` or `postgresql://` is PostgreSQL; anything else is a SQLite file
 * path (a `sqlite:` or `file:` prefix is allowed). Call migrate() before use.
 */
export function createStore(databaseUrl: string, options: CreateStoreOptions = {}): Store {
  if (/^postgres(ql)?:\/\//i.test(databaseUrl)) {
    return new SqlStore(new Kysely<Database>({ dialect: postgresDialect(databaseUrl, options) }));
  }
  return sqliteStore(sqlitePath(databaseUrl), options.sqliteSynchronous ?? 'full');
}

function postgresDialect(connectionString: string, options: CreateStoreOptions): Dialect {
  const pool = new pg.Pool({ connectionString, connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS });
  // Without a listener, an idle client's error is an unhandled 'error' event and takes the process down.
  pool.on('error', (error) => options.onPoolError?.(error));
  return new PostgresDialect({ pool });
}

/**
 * SQLite: Kysely for every query but append, which runs its prepared statements directly (SqliteAppender) in
 * group commits. It takes Kysely's connection first, so it never runs inside another query's open transaction.
 */
function sqliteStore(path: string, synchronous: SqliteSynchronous): Store {
  const db = openSqlite(path, synchronous);
  const kysely = new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(db, SQLITE_CACHED_STATEMENTS) }),
  });
  const appender = new SqliteAppender(db);
  const group = new GroupCommit(
    (inputs) => kysely.connection().execute(async () => appender.append(inputs)),
    SQLITE_GROUP_ITEMS,
  );
  return new SqlStore(kysely, { append: (inputs) => group.append(inputs) });
}

/** `sqlite:///var/lib/herald.db` and `file:data/herald.db` name the same files as the bare paths. */
function sqlitePath(databaseUrl: string): string {
  return databaseUrl.replace(/^(sqlite|file):(\/\/)?/i, '');
}

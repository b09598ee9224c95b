import { Kysely, PostgresDialect, SqliteDialect, type Dialect } from 'kysely';
import pg from 'pg';
import { AppendThread } from './append-thread.js';
import { BackgroundCheckpoint } from './background-checkpoint.js';
import { parseDatabaseUrl } from './database-url.js';
import type { Database } from './schema.js';
import { GroupCommit } from './group-commit.js';
import { isSqliteFile, openSqlite, type SqliteSynchronous } from './open-sqlite.js';
import { PostgresAppender } from './postgres-appender.js';
import { SqliteAppender } from './sqlite-appender.js';
import { SqlStore } from './sql-store.js';
import { withStatementCache } from './statement-cache.js';
import type { InboxLimits, Store } from './store.js';

export interface CreateStoreOptions {
  /**
   * Called when an idle PostgreSQL connection fails (the server restarted, the network dropped). The pool drops
   * that connection and opens another on the next query; the default is to ignore it, since ping() reports
   * an unreachable database.
   */
  onPoolError?: (error: Error) => void;
  /** SQLite only: `full` (the default) syncs the WAL on every commit; `normal` leaves it to checkpoints. */
  sqliteSynchronous?: SqliteSynchronous;
  /** How much of a user's inbox and stream is kept (HERALD_MAX_NOTIFICATIONS_PER_USER); DEFAULT_INBOX_LIMITS when absent. */
  limits?: InboxLimits;
  /** SQLite only: called when a background checkpoint fails (see BackgroundCheckpoint); the next one tries again. */
  onCheckpointFailure?: (reason: string) => void;
}

/** HERALD_MAX_NOTIFICATIONS_PER_USER's default, for the inbox and for the stream. */
export const DEFAULT_INBOX_LIMITS: InboxLimits = { maxNotificationsPerUser: 10_000, maxEventsPerUser: 10_000 };

/** How long a query waits for a PostgreSQL connection before it fails, so that ping() cannot hang. */
const PG_CONNECT_TIMEOUT_MS = 5_000;
/** Distinct SQL texts kept prepared; Herald's queries have a few dozen shapes, markRead's one per id count. */
const SQLITE_CACHED_STATEMENTS = 1_000;
/**
 * Items per group commit on SQLite. Past a few hundred items the commit's fixed cost is amortised already, and a
 * larger group only holds the event loop longer (every tab's delivery waits for the synchronous transaction).
 */
const SQLITE_GROUP_ITEMS = 1_000;

/**
 * A Store for a database URL: `postgres://` or `postgresql://` is PostgreSQL; a file path is SQLite (a `sqlite:`
 * or `file:` prefix is allowed); any other scheme is refused (see parseDatabaseUrl). Call migrate() before use.
 */
export function createStore(databaseUrl: string, options: CreateStoreOptions = {}): Store {
  const target = parseDatabaseUrl(databaseUrl);
  if (!target.ok) throw new Error(`The database URL ${target.error}`);
  const limits = options.limits ?? DEFAULT_INBOX_LIMITS;
  if (target.value.kind === 'postgres') {
    const kysely = new Kysely<Database>({ dialect: postgresDialect(target.value.url, options) });
    return new SqlStore(kysely, new PostgresAppender(kysely, limits));
  }
  return sqliteStore(target.value.path, options.sqliteSynchronous ?? 'full', limits, options.onCheckpointFailure ?? (() => {}));
}

/**
 * pg hands bigint (int8) back as a string, since it may exceed what a number holds exactly; seqs are bigint
 * (migration 0002) and Herald's seqs never pass Number.MAX_SAFE_INTEGER (the edges refuse any cursor or `since`
 * past it, and a stream counts up from 1), so this pool reads int8 as a number, as SQLite does, count(*) too.
 * Set on this pool only, not on pg's global parsers, which other code in the process may rely on.
 */
const parseTimestamptz = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text') as (text: string) => Date;

/**
 * Also: timestamptz (migration 0003) is read back as the ISO text Herald wrote (toISOString: milliseconds, UTC),
 * the form SQLite stores, not as a Date; the times Herald writes have milliseconds only, so the round trip is exact.
 */
const heraldTypes: pg.CustomTypesConfig = {
  getTypeParser: (oid, format) => {
    if (format === 'binary') return pg.types.getTypeParser(oid, format);
    if (oid === pg.types.builtins.INT8) return Number;
    if (oid === pg.types.builtins.TIMESTAMPTZ) return (text: string) => parseTimestamptz(text).toISOString();
    return pg.types.getTypeParser(oid, format);
  },
};

function postgresDialect(connectionString: string, options: CreateStoreOptions): Dialect {
  const pool = new pg.Pool({ connectionString, connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS, types: heraldTypes });
  // Without a listener, an idle client's error is an unhandled 'error' event and takes the process down.
  pool.on('error', (error) => options.onPoolError?.(error));
  return new PostgresDialect({ pool });
}

/**
 * SQLite: Kysely for every query but append, which runs its prepared statements directly (SqliteAppender) in
 * group commits, on the same connection, or for a batch of thousands on the append thread's (AppendThread).
 */
function sqliteStore(path: string, synchronous: SqliteSynchronous, limits: InboxLimits, onCheckpointFailure: (reason: string) => void): Store {
  const db = openSqlite(path, synchronous);
  const kysely = new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(db, SQLITE_CACHED_STATEMENTS) }),
  });
  // An in-memory database has no WAL to copy, and no file that a second connection could open.
  const file = isSqliteFile(path);
  const checkpoint = file ? new BackgroundCheckpoint(path, onCheckpointFailure) : undefined;
  const thread = file ? new AppendThread({ path, synchronous, limits }) : undefined;
  // Kysely closes the file only if it ever ran a query on it: a store closed unused (a start that failed before
  // its first query) would keep the file, its WAL and its shared memory open.
  const release = async (): Promise<void> => {
    await thread?.stop();
    await checkpoint?.stop();
    if (db.open) db.close();
  };
  return new SqlStore(kysely, new GroupCommit(new SqliteAppender(db, kysely, limits, { thread }), SQLITE_GROUP_ITEMS), release);
}

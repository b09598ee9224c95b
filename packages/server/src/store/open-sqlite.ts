import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

/** How long a SQLite write waits for another process's lock before it fails with SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/**
 * WAL pages (4 KiB) between checkpoints, against SQLite's 1,000. A checkpoint runs inside the commit that crosses
 * the bound and rewrites every page changed since the last one; an inbox write touches pages all over the
 * per-user indexes, so checkpointing a tenth as often rewrites far fewer pages in all. Measured at 5,000 users:
 * fan-out 8,348 → 9,622 deliveries/s, and at 8,800 events/s offered Herald kept up (p99 576 → 92 ms). The
 * WAL file grows to ~40 MB between checkpoints.
 */
const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/**
 * Each connection's page cache, in KiB, against SQLite's 2 MiB. An append of a few thousand records touches the
 * index pages of every user in it (the stream's and the inbox's (user_id, seq) keys, the unread index): at 1,000
 * users those are more pages than 2 MiB holds, and each append read most of them back from the file. Measured on
 * a 100,000-record Kafka backlog: 110 → 71–78 µs of CPU per record, 10,300–10,800 → 14,700–16,000 records/s
 * (BENCHMARKS.md, Kafka). SQLite allocates the pages as they are used, so a small inbox costs no more memory.
 */
const PAGE_CACHE_KIB = 64 * 1024;

/**
 * SQLite's `synchronous` in WAL mode. full: the WAL is synced on every commit, so a stored event survives a power
 * loss. normal: synced only at checkpoints, so a commit survives a crash of Herald but maybe not of the machine.
 */
export type SqliteSynchronous = 'full' | 'normal';

/** Whether `path` names a file, not one of SQLite's in-memory databases: no folder, WAL or second connection. */
export function isSqliteFile(path: string): boolean {
  return path !== '' && path !== ':memory:' && !path.startsWith('file::memory:');
}

/** Opens (creating its folder) the SQLite file Herald keeps its inbox in. */
export function openSqlite(path: string, synchronous: SqliteSynchronous): BetterSqlite3.Database {
  if (isSqliteFile(path)) mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  // WAL lets readers (another process, a backup) run beside the writer; foreign keys are off by default.
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('foreign_keys = ON');
  db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  return db;
}

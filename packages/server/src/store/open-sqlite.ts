import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

/** How long a SQLite write waits for another process's lock before it fails with SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/**
 * SQLite's `synchronous` in WAL mode. full: the WAL is synced on every commit, so a stored event survives a power
 * loss. normal: synced only at checkpoints, so a commit survives a crash of Herald but maybe not of the machine.
 */
export type SqliteSynchronous = 'full' | 'normal';

/** Opens (creating its folder) the SQLite file Herald keeps its inbox in. */
export function openSqlite(path: string, synchronous: SqliteSynchronous): BetterSqlite3.Database {
  if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  // WAL lets readers (another process, a backup) run beside the writer; foreign keys are off by default.
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  return db;
}

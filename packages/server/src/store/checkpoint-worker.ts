/**
 * The body of the background checkpoint thread (see background-checkpoint.ts): its own connection to the SQLite
 * file, which copies the WAL's committed pages into the database file every `intervalMs` with a PASSIVE
 * checkpoint (one that never waits for, nor blocks, the writer on the main thread). Only Node and better-sqlite3
 * are imported, so that the file runs as it is under Node's type stripping when tests load it from source.
 */
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';

export interface CheckpointWorkerData {
  path: string;
  intervalMs: number;
}

/** What the thread tells its owner: a checkpoint that failed for another reason than a busy lock. */
export interface CheckpointWorkerMessage {
  failed: string;
}

const { path, intervalMs } = workerData as CheckpointWorkerData;
const db = new BetterSqlite3(path, { fileMustExist: true });
// FULL, as the main connection by default: the checkpoint syncs the database file before the WAL is reused.
db.pragma('synchronous = full');

const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    // SQLITE_BUSY: the main connection's own checkpoint holds the lock; the next turn tries again.
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY') return;
    parentPort?.postMessage({ failed: error instanceof Error ? error.message : String(error) } satisfies CheckpointWorkerMessage);
  }
}, intervalMs);

parentPort?.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});

import { Worker } from 'node:worker_threads';
import type { CheckpointWorkerData, CheckpointWorkerMessage } from './checkpoint-worker.js';

/** Between two background checkpoints: a WAL of a busy second's commits is copied in one go. */
export const CHECKPOINT_INTERVAL_MS = 250;

/**
 * SQLite's checkpoints on a thread of their own. A checkpoint copies the WAL's pages into the database file and
 * syncs it; run by the committing connection (wal_autocheckpoint), it stops the event loop for all of that, which
 * every tab's delivery waits behind. This thread copies the pages as they come, so the main connection's own
 * checkpoint (kept as the bound of the WAL: it is the one that lets the WAL start over) finds little left to copy.
 * BENCHMARKS.md, "Checkpoints off the main thread", has the latencies before and after.
 */
export class BackgroundCheckpoint {
  readonly #worker: Worker;
  readonly #exited: Promise<unknown>;

  constructor(path: string, onFailure: (reason: string) => void, intervalMs: number = CHECKPOINT_INTERVAL_MS) {
    // From dist the thread is the compiled .js; from source (tests) the .ts itself, which Node runs as it is.
    const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    const workerData: CheckpointWorkerData = { path, intervalMs };
    this.#worker = new Worker(new URL(`./checkpoint-worker${extension}`, import.meta.url), { workerData });
    // Not events.once: that rejects on the 'error' event, which the listener below handles.
    this.#exited = new Promise((resolve) => this.#worker.once('exit', resolve));
    this.#worker.on('message', (message: CheckpointWorkerMessage) => onFailure(message.failed));
    this.#worker.on('error', (error) => onFailure(error.message));
    // The thread never keeps Herald running by itself: stop() ends it on close.
    this.#worker.unref();
  }

  /** Ends the thread after its current checkpoint, and closes its connection. */
  async stop(): Promise<void> {
    // Held until it has exited: unreferenced, a process with nothing else left would end before it closed its file.
    this.#worker.ref();
    this.#worker.postMessage('stop');
    await this.#exited;
  }
}

import { Worker } from 'node:worker_threads';
import type { AppendResults } from './appender.js';
import type { SqliteSynchronous } from './open-sqlite.js';
import type { AppendInput, InboxLimits } from './store.js';

/** What the append thread is started with. */
export interface AppendThreadData {
  path: string;
  synchronous: SqliteSynchronous;
  limits: InboxLimits;
}

export interface AppendThreadRequest {
  id: number;
  inputs: readonly AppendInput[];
}

export type AppendThreadReply =
  | { id: number; results: AppendResults }
  | { id: number; failure: { message: string; code: string | undefined } };

/**
 * The code of an append that was on the thread when it ended (a crash, out of memory): an outage, as the store
 * sees it (isStoreUnavailable), since the next append starts a new thread.
 */
export const APPEND_THREAD_ENDED = 'HERALD_APPEND_THREAD_ENDED';

interface Pending {
  resolve(results: AppendResults): void;
  reject(error: Error): void;
}

/**
 * SQLite appends on a thread of their own, with their own connection to the file: the statements, their
 * transaction and its commit (and the checkpoint a commit may run) leave the event loop free meanwhile. Appends
 * run one after another in the order they were sent. The thread starts on the first append (after the
 * migrations) and again on the next one after it ended; it never keeps Herald running by itself.
 */
export class AppendThread {
  #worker: Worker | undefined;
  #exited: Promise<unknown> = Promise.resolve();
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();

  constructor(private readonly data: AppendThreadData) {}

  append(inputs: readonly AppendInput[]): Promise<AppendResults> {
    const worker = (this.#worker ??= this.#start());
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, inputs } satisfies AppendThreadRequest);
    });
  }

  /** Ends the thread once the appends sent to it have run, and closes its connection. */
  async stop(): Promise<void> {
    const worker = this.#worker;
    if (worker === undefined) return;
    // Held until it has exited: unreferenced, a process with nothing else left would end before it closed its file.
    worker.ref();
    worker.postMessage('stop');
    await this.#exited;
  }

  #start(): Worker {
    // From dist the thread is the compiled .js; from source (tests, benchmarks) the .ts, through tsx's loader.
    const fromSource = import.meta.url.endsWith('.ts');
    const worker = new Worker(new URL(`./append-worker${fromSource ? '.ts' : '.js'}`, import.meta.url), {
      workerData: this.data,
      execArgv: fromSource ? ['--import', 'tsx'] : [],
    });
    worker.unref();
    worker.on('message', (reply: AppendThreadReply) => this.#settle(reply));
    let failure: Error | undefined;
    worker.on('error', (error) => (failure = error));
    this.#exited = new Promise((resolve) =>
      worker.once('exit', (exitCode) => {
        if (this.#worker === worker) this.#worker = undefined;
        const reason = failure?.message ?? `exit code ${exitCode}`;
        for (const [id, pending] of this.#pending) {
          this.#pending.delete(id);
          pending.reject(Object.assign(new Error(`the SQLite append thread ended before the append finished (${reason})`), { code: APPEND_THREAD_ENDED }));
        }
        resolve(exitCode);
      }),
    );
    return worker;
  }

  #settle(reply: AppendThreadReply): void {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    if ('results' in reply) pending.resolve(reply.results);
    else pending.reject(Object.assign(new Error(reply.failure.message), { code: reply.failure.code }));
  }
}

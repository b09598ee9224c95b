import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { AppendThread } from './append-thread.js';
import type { Appender, AppendResults } from './appender.js';
import type { Database } from './schema.js';
import { SqliteAppendSteps } from './sqlite-append-steps.js';
import type { AppendInput, InboxLimits } from './store.js';

export interface SqliteAppenderOptions {
  /** The longest a large append runs before it lets the event loop turn, in ms. */
  sliceMs?: number;
  /**
   * Where the largest appends run (more than THREAD_INPUTS), on a connection of their own; absent for a database
   * that no second connection can open (in memory), whose large appends run in slices here.
   */
  thread?: AppendThread;
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

/**
 * Batches larger than this go to the append thread. A group commit of publishes holds at most 1,000 items
 * (create-store.ts), so only a caller's own large batch (a Kafka batch while a backlog drains) goes there: the
 * thread's gain is wall-clock time on a second core, paid for in CPU (the inputs and results are copied between
 * the threads, ~10% more per record: BENCHMARKS.md, "Storing on a worker thread"), which a node's ordinary
 * traffic should not pay.
 */
const THREAD_INPUTS = 1_000;

/**
 * Append on SQLite: the statements of SqliteAppendSteps, run on `db`, the connection that `kysely` runs its
 * queries on, or on the append thread's own connection. Each append takes Kysely's connection first and holds it
 * until its transaction has ended, wherever that runs: it never runs inside another query's open transaction (a
 * markRead awaiting its next statement), and no write of this node's connection meets the append thread's lock.
 *
 * A batch of more than AT_ONCE_INPUTS is one transaction run in slices of at most `sliceMs`, with a turn of the
 * event loop between slices. Run at once, 5,000 records held the loop for about 0.3 s, and Node (libuv) accepts
 * one new connection per turn of its loop: while a backlog drained, the node took about five new connections a
 * second (BENCHMARKS.md, Kafka). Between slices the transaction stays open and Kysely's connection stays taken, so
 * readers and other writers of this node wait for the commit as they did before, while sockets, timers and
 * handshakes go on. A batch of more than THREAD_INPUTS runs on the append thread when there is one, which leaves
 * the whole loop to decoding the next batch and delivering the last one.
 */
export class SqliteAppender implements Appender {
  #steps: SqliteAppendSteps | undefined;
  readonly #sliceMs: number;
  readonly #thread: AppendThread | undefined;

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly kysely: Kysely<Database>,
    private readonly limits: InboxLimits,
    options: SqliteAppenderOptions = {},
  ) {
    this.#sliceMs = options.sliceMs ?? SLICE_MS;
    this.#thread = options.thread;
  }

  append(inputs: readonly AppendInput[]): Promise<AppendResults> {
    const thread = this.#thread;
    if (thread !== undefined && inputs.length > THREAD_INPUTS) return this.kysely.connection().execute(() => thread.append(inputs));
    if (inputs.length <= AT_ONCE_INPUTS) return this.kysely.connection().execute(async () => this.#stepsOf().runAtOnce(inputs));
    return this.kysely.connection().execute(() => this.#appendSliced(inputs));
  }

  /** Prepared on first use, after the migrations made the tables. */
  #stepsOf(): SqliteAppendSteps {
    return (this.#steps ??= new SqliteAppendSteps(this.db, this.limits));
  }

  /** One transaction over several turns of the event loop: BEGIN IMMEDIATE, slices of steps, COMMIT. */
  async #appendSliced(inputs: readonly AppendInput[]): Promise<AppendResults> {
    const append = this.#stepsOf();
    const steps = append.steps(inputs);
    append.begin();
    try {
      let sliceEnd = performance.now() + this.#sliceMs;
      for (;;) {
        const step = steps.next();
        if (step.done) {
          append.commit();
          return step.value;
        }
        if (performance.now() >= sliceEnd) {
          await nextTurn();
          sliceEnd = performance.now() + this.#sliceMs;
        }
      }
    } finally {
      // Whatever failed (a statement, the commit), nothing of the batch stays: the caller's retry starts clean.
      append.rollbackIfOpen();
    }
  }
}

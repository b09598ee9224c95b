import type { AppendInput, StoredEvent } from './store.js';

/**
 * Aligned with the inputs appended: the event stored for each, or null for a repeat (its key stored before, or
 * earlier in the batch), which stored nothing and took no seq.
 */
export type AppendResults = (StoredEvent | null)[];

/**
 * How Store.append reaches a database: one batch in one transaction, all or nothing; each user's inputs numbered
 * from that user's last seq in input order, repeats skipped. Which inputs are repeats, their seqs and their rows
 * are planned once for every database (append-plan.ts); an implementation only reads what the plan needs (each
 * user's last seq, which keys are stored) under its write lock, and writes the rows and last seqs it is given.
 *
 * Two implementations, because what an append costs differs between the two databases (BENCHMARKS.md):
 *
 * - PostgreSQL (postgres-appender.ts): a round trip per statement dominates, so a constant number of multi-row
 *   statements per batch, built with Kysely. Store.append alone, 500-item batches ("Set-based batch appends"):
 *   three statements per item 955–1,105 items/s, set-based 4,493–5,587 (500 users x 1, keyed).
 * - SQLite (sqlite-appender.ts): in process, no round trip. Building, compiling and binding those multi-row
 *   statements cost more than SQLite's own work (36% of a fan-out profile was Kysely), while better-sqlite3 runs a
 *   prepared single-row statement in a few microseconds; so six statements prepared once, run row by row in one
 *   synchronous transaction. Store.append alone, 1,000-item batches ("Hot paths, before and after"): set-based
 *   10,831–14,383 items/s, prepared rows 16,014–26,191.
 *
 * GroupCommit is an Appender too, over SQLite's: it shares one transaction among the appends of one turn.
 */
export interface Appender {
  append(inputs: readonly AppendInput[]): Promise<AppendResults>;
}

/**
 * The body of the append thread (see append-thread.ts): its own connection to the SQLite file, on which it runs
 * each append it is sent as one BEGIN IMMEDIATE transaction (SqliteAppendSteps, the statements the main thread
 * runs too), and sends back the results or the failure.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite } from './open-sqlite.js';
import { SqliteAppendSteps } from './sqlite-append-steps.js';
import type { AppendThreadData, AppendThreadReply, AppendThreadRequest } from './append-thread.js';

const { path, synchronous, limits } = workerData as AppendThreadData;
const db = openSqlite(path, synchronous);
const steps = new SqliteAppendSteps(db, limits);

parentPort!.on('message', (message: AppendThreadRequest | 'stop') => {
  if (message === 'stop') {
    db.close();
    parentPort!.close();
    return;
  }
  let reply: AppendThreadReply;
  try {
    reply = { id: message.id, results: steps.runAtOnce(message.inputs) };
  } catch (error) {
    // A structured clone of an Error keeps its message but not its code, which says whether the failure passes.
    const { message: text, code } = error instanceof Error ? (error as Error & { code?: unknown }) : { message: String(error), code: undefined };
    reply = { id: message.id, failure: { message: text, code: typeof code === 'string' ? code : undefined } };
  }
  parentPort!.postMessage(reply);
});

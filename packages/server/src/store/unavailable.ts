import { APPEND_THREAD_ENDED } from './append-thread.js';

/** Driver error codes that mean "the database cannot be reached right now", not "this request is wrong". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  // PostgreSQL: admin shutdown, crash shutdown, cannot connect now, connection exceptions.
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08006',
  'SQLITE_BUSY',
  'SQLITE_IOERR',
  'SQLITE_CANTOPEN',
  'SQLITE_FULL',
  // The SQLite append thread ended under an append; the next append starts another.
  APPEND_THREAD_ENDED,
]);

const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i;

/**
 * Whether a store failure is an outage (the caller may retry later) rather than a defect. guardOutages asks it at
 * the store seam; the HTTP error handler and closeFor ask it only for a store that was not wrapped.
 */
export function isStoreUnavailable(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    if (UNAVAILABLE_MESSAGES.test(current.message)) return true;
    // AggregateError from a connect to every address of a host.
    if (current instanceof AggregateError && current.errors.some(isStoreUnavailable)) return true;
  }
  return false;
}

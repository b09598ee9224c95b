import { randomUUID } from 'node:crypto';

/**
 * A new notification's id: a UUID version 7 (RFC 9562), whose first 48 bits are the Unix time in milliseconds and
 * the other 74 random. Ids made close in time sort close together, so each insert into the id index (inbox_pk)
 * lands on the few pages at its right-hand end instead of a random page of it: one page fewer written per
 * notification (of about six on SQLite) and a hot set of the index that stays in cache as it grows
 * (BENCHMARKS.md, "The rerun on an idle machine, and two changes that settle it"). Clients keep treating the id
 * as an opaque string.
 *
 * Built from randomUUID (a version 4 UUID, from Node's buffered random pool): its first 12 hex digits are replaced
 * by the time and its version digit by 7; the variant bits and the remaining random bits are kept as they are.
 */
export function newNotificationId(now: number = Date.now()): string {
  if (now !== prefixTime) {
    const time = now.toString(16).padStart(12, '0');
    prefix = `${time.slice(0, 8)}-${time.slice(8, 12)}-7`;
    prefixTime = now;
  }
  return prefix + randomUUID().slice(15);
}

/**
 * The text before the version's random digits, kept for the millisecond it was made for: a burst of appends makes
 * many ids within one, and formatting the time for each cost more than the rest of the id (1.6 µs an id, in a
 * profile of the fan-out benchmark).
 */
let prefixTime = -1;
let prefix = '';

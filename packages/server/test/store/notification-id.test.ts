import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newNotificationId } from '../../src/store/notification-id.js';

/** RFC 9562's version 7 layout: 48 bits of time, version 7, 12 random bits, variant 10, 62 random bits. */
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function timeOf(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

describe('notification ids', () => {
  it('are version 7 UUIDs carrying the time they were made at, in milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (now) => {
        const id = newNotificationId(now);
        expect(id).toMatch(UUID_V7);
        expect(timeOf(id)).toBe(now);
      }),
    );
  });

  it('made at the current time by default', () => {
    const before = Date.now();
    const id = newNotificationId();
    expect(timeOf(id)).toBeGreaterThanOrEqual(before);
    expect(timeOf(id)).toBeLessThanOrEqual(Date.now());
  });

  it('sort by the time they were made at, and differ when made in the same millisecond', () => {
    const now = Date.now();
    const sameMillisecond = Array.from({ length: 10_000 }, () => newNotificationId(now));
    expect(new Set(sameMillisecond).size).toBe(sameMillisecond.length);
    const later = newNotificationId(now + 1);
    for (const id of sameMillisecond.slice(0, 100)) expect(id < later).toBe(true);
    const earlier = newNotificationId(now - 1);
    expect(earlier < sameMillisecond[0]!).toBe(true);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { takeFrame, type FrameBucket, type FrameLimit } from '../../src/transport/frame-bucket.js';

const T0 = 1_764_590_000_000;

function freshBucket(now = T0): FrameBucket {
  return { frameMillisTaken: 0, framesRefilledAt: now };
}

/** How many frames in a row the bucket takes at `now` before it refuses one (on a copy: the bucket is unchanged). */
function framesLeft(bucket: FrameBucket, limit: FrameLimit, now: number): number {
  const copy = { ...bucket };
  let taken = 0;
  while (takeFrame(copy, limit, now)) taken++;
  return taken;
}

describe('takeFrame', () => {
  const limit: FrameLimit = { perSecond: 20, burst: 100 };

  it('takes a whole burst at once from a fresh bucket, and refuses the frame after it', () => {
    const bucket = freshBucket();
    for (let frame = 1; frame <= 100; frame++) expect({ frame, taken: takeFrame(bucket, limit, T0) }).toEqual({ frame, taken: true });
    expect(takeFrame(bucket, limit, T0)).toBe(false);
    expect(takeFrame(bucket, limit, T0)).toBe(false);
  });

  it('refills one frame per 1000 / perSecond ms, not before', () => {
    const bucket = freshBucket();
    expect(framesLeft(bucket, limit, T0)).toBe(100);
    while (takeFrame(bucket, limit, T0));
    expect(takeFrame(bucket, limit, T0 + 49)).toBe(false);
    expect(takeFrame(bucket, limit, T0 + 50)).toBe(true);
    expect(takeFrame(bucket, limit, T0 + 50)).toBe(false);
    // A second: 20 frames.
    expect(framesLeft(bucket, limit, T0 + 1050)).toBe(20);
  });

  it('a refused frame takes nothing: the next refill lets exactly one through', () => {
    const bucket = freshBucket();
    while (takeFrame(bucket, limit, T0));
    for (let tries = 0; tries < 10; tries++) expect(takeFrame(bucket, limit, T0 + 30)).toBe(false);
    expect(takeFrame(bucket, limit, T0 + 50)).toBe(true);
    expect(takeFrame(bucket, limit, T0 + 50)).toBe(false);
  });

  it('never holds more than the burst, however long the connection was quiet', () => {
    const bucket = freshBucket();
    takeFrame(bucket, limit, T0);
    expect(framesLeft(bucket, limit, T0 + 3_600_000)).toBe(100);
    expect(framesLeft(bucket, limit, T0 + 365 * 86_400_000)).toBe(100);
  });

  it('takes frames sent at exactly the rate for ever, even with a burst of 1', () => {
    const tight = { perSecond: 20, burst: 1 };
    const bucket = freshBucket();
    for (let frame = 0; frame < 10_000; frame++) {
      if (!takeFrame(bucket, tight, T0 + frame * 50)) throw new Error(`frame ${frame} refused`);
    }
    expect(takeFrame(bucket, tight, T0 + 9_999 * 50 + 49)).toBe(false);
  });

  it('refills exactly at a rate that does not divide a second', () => {
    const three = { perSecond: 3, burst: 1 };
    const bucket = freshBucket();
    expect(takeFrame(bucket, three, T0)).toBe(true);
    // 333 ms refill 999 thousandths of a frame; 334 ms a whole one.
    expect(takeFrame(bucket, three, T0 + 333)).toBe(false);
    expect(takeFrame(bucket, three, T0 + 334)).toBe(true);
    // Below a full bucket nothing is lost to rounding: tried every millisecond for a minute, 180 frames.
    const roomy = { perSecond: 3, burst: 5 };
    const emptied = freshBucket();
    while (takeFrame(emptied, roomy, T0));
    let taken = 0;
    for (let ms = 1; ms <= 60_000; ms++) if (takeFrame(emptied, roomy, T0 + ms)) taken++;
    expect(taken).toBe(180);
  });

  it('refills nothing when the clock went back, and counts on from the new time', () => {
    const bucket = freshBucket();
    while (takeFrame(bucket, limit, T0));
    expect(takeFrame(bucket, limit, T0 - 10_000)).toBe(false);
    expect(takeFrame(bucket, limit, T0 - 9_951)).toBe(false);
    expect(takeFrame(bucket, limit, T0 - 9_950)).toBe(true);
  });

  it('keeps its count a small integer at the largest settings, so V8 stores it in the field', () => {
    const largest = { perSecond: 100_000, burst: 1_000_000 };
    const bucket = freshBucket();
    while (takeFrame(bucket, largest, T0));
    expect(bucket.frameMillisTaken).toBe(1_000_000_000);
    // Under 2^30: a small integer even where V8 compresses pointers.
    expect(bucket.frameMillisTaken).toBeLessThan(2 ** 30);
    takeFrame(bucket, largest, T0 + 7);
    expect(Number.isInteger(bucket.frameMillisTaken)).toBe(true);
    expect(bucket.framesRefilledAt).toBe(T0 + 7);
  });

  /**
   * The same limit written another way (the generic cell rate algorithm: a theoretical arrival time that each
   * frame pushes on by 1000 / perSecond ms), in exact integers scaled by perSecond.
   */
  class CellRateModel {
    private arrival: number;
    constructor(
      private readonly limit: FrameLimit,
      start: number,
    ) {
      this.arrival = start * limit.perSecond;
    }
    take(now: number): boolean {
      const at = now * this.limit.perSecond;
      if (at < this.arrival - (this.limit.burst - 1) * 1000) return false;
      this.arrival = Math.max(at, this.arrival) + 1000;
      return true;
    }
  }

  it('agrees with the cell rate model for any limit and any sending pattern (property)', () => {
    fc.assert(
      fc.property(
        fc.record({ perSecond: fc.integer({ min: 1, max: 1000 }), burst: fc.integer({ min: 1, max: 200 }) }),
        fc.array(fc.record({ waitMs: fc.integer({ min: 0, max: 2000 }), frames: fc.integer({ min: 1, max: 300 }) }), { maxLength: 40 }),
        (frameLimit, bursts) => {
          const bucket = freshBucket();
          const model = new CellRateModel(frameLimit, T0);
          let now = T0;
          for (const { waitMs, frames } of bursts) {
            now += waitMs;
            for (let frame = 0; frame < frames; frame++) {
              const taken = takeFrame(bucket, frameLimit, now);
              if (taken !== model.take(now)) return false;
              if (!Number.isInteger(bucket.frameMillisTaken)) return false;
            }
          }
          return true;
        },
      ),
      { numRuns: 500 },
    );
  });
});

/**
 * The inbound frame limit of one connection, a token bucket: it holds `burst` frames, each frame a client sends
 * takes one, and it refills at `perSecond` frames a second. A frame that finds it empty closes the connection.
 */
export interface FrameLimit {
  perSecond: number;
  burst: number;
}

/**
 * The bucket's state: two numbers on the connection, no timer. It is kept as what was taken rather than what is
 * left, so that a new connection starts with a full bucket at 0 without knowing the burst; and in thousandths of a
 * frame, so that one millisecond refills exactly `perSecond` of them and the count stays a small integer (which V8
 * keeps in the field itself; a fraction would cost a heap number per connection).
 */
export interface FrameBucket {
  /** Thousandths of a frame taken and not refilled yet: 0 is a full bucket, 1000 × burst an empty one. */
  frameMillisTaken: number;
  /** When the bucket was last refilled (ms). */
  framesRefilledAt: number;
}

const MILLIS_PER_FRAME = 1000;

/**
 * Refills the bucket for the time since its last refill, then takes one frame. False when that frame is one too
 * many: the bucket is left refilled, without it, and the caller closes the connection. `now` is in whole
 * milliseconds (Date.now, which the caller reads anyway for the keepalive). After a clock that went back (a step of
 * the system time) nothing is refilled, and the bucket counts on from the new time.
 */
export function takeFrame(bucket: FrameBucket, limit: FrameLimit, now: number): boolean {
  const elapsed = now - bucket.framesRefilledAt;
  const refilled = elapsed > 0 ? elapsed * limit.perSecond : 0;
  const stillTaken = Math.max(0, bucket.frameMillisTaken - refilled);
  bucket.framesRefilledAt = now;
  if (stillTaken + MILLIS_PER_FRAME > limit.burst * MILLIS_PER_FRAME) {
    bucket.frameMillisTaken = stillTaken;
    return false;
  }
  bucket.frameMillisTaken = stillTaken + MILLIS_PER_FRAME;
  return true;
}

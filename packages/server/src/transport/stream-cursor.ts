/** The stamp of a cursor that no resume request has moved yet. */
export const OPENING_STAMP = 0;

/** What a live event offered to a cursor means for it. */
export type LiveVerdict = 'next' | 'duplicate' | 'held' | 'gap';

/**
 * The delivery cursor of one tab, and the one place its invariant lives: only the event right after `lastSeq` is
 * ever sent, and the tab goes live only once nothing newer than what it was sent has been offered meanwhile.
 *
 * A cursor is either live (events offered by fan-out are sent as they come) or catching up (a reader sends pages
 * from the store, and offers only raise `pendingHigh`, the point the reader must reach before it may go live).
 * At most one reader runs at a time: every method that moves a live cursor to catching up returns true exactly
 * when its caller must start one. A `resume` request (or a recheck while a reader runs) bumps the stamp, so
 * that a page read before it is recognised as stale and read again.
 *
 * The fields are flat on the connection that extends this (no object of their own): they are part of why an idle
 * connection costs about 4 KiB.
 */
export class StreamCursor {
  private sentSeq = 0;
  private catchingUp = true;
  private pendingHigh = 0;
  private reads = OPENING_STAMP;
  private resumed = false;

  /** The last stream event sent to this tab. */
  get lastSeq(): number {
    return this.sentSeq;
  }

  get isLive(): boolean {
    return !this.catchingUp;
  }

  /** Taken before a store read; compared after it to tell whether a resume request came in meanwhile. */
  get stamp(): number {
    return this.reads;
  }

  /**
   * Places a newly opened stream at `start`, unless the client has asked to resume already (a resume frame may be
   * handled while admission or the head read waits): the client's later request wins.
   */
  startAt(start: number): void {
    if (!this.resumed) this.sentSeq = start;
  }

  /**
   * The client asked for everything after `since` again. What was already offered still has to be reached, so
   * the reader's goal is kept. True when the caller must start a reader (the cursor was live).
   */
  resumeFrom(since: number): boolean {
    if (this.sentSeq > this.pendingHigh) this.pendingHigh = this.sentSeq;
    this.sentSeq = since;
    this.resumed = true;
    this.reads++;
    return this.enterCatchUp();
  }

  /**
   * Events may have been missed (the link between nodes was down): true when the caller must start a reader. A
   * reader already running (or an open still reading the head) may have read before the missed events were
   * stored: the stamp moves, so that it reads once more before it may go live.
   */
  recheck(): boolean {
    if (!this.catchingUp) return this.enterCatchUp();
    this.reads++;
    return false;
  }

  /** A live event: 'next' is to be sent (then `sent`), 'gap' means a reader must start, the others are dropped. */
  judgeLive(seq: number): LiveVerdict {
    if (this.catchingUp) {
      if (seq > this.pendingHigh) this.pendingHigh = seq;
      return 'held';
    }
    if (seq <= this.sentSeq) return 'duplicate';
    if (seq === this.sentSeq + 1) return 'next';
    this.pendingHigh = seq;
    this.catchingUp = true;
    return 'gap';
  }

  /** The event with this seq reached the socket's queue. */
  sent(seq: number): void {
    this.sentSeq = seq;
  }

  /**
   * Goes live when the store has been read up to `readUpTo` under `stamp`, everything read was sent, and nothing
   * newer was offered meanwhile. The caller must not await between its read's end and this call.
   */
  tryGoLive(readUpTo: number, stamp: number): boolean {
    if (stamp !== this.reads || this.sentSeq < readUpTo || this.pendingHigh > this.sentSeq) return false;
    this.catchingUp = false;
    return true;
  }

  private enterCatchUp(): boolean {
    if (this.catchingUp) return false;
    this.catchingUp = true;
    return true;
  }
}

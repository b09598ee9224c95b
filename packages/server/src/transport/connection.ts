import { CloseCode } from '@herald/protocol';
import type { WebSocket } from 'ws';
import type { Metrics } from '../metrics.js';
import { takeFrame, type FrameBucket, type FrameLimit } from './frame-bucket.js';
import type { KeepaliveEntry } from './keepalive-wheel.js';
import { StreamCursor } from './stream-cursor.js';

const SEND_OPTIONS = { binary: false } as const;

/** The socket under a WebSocket, as far as a Connection holds its writes together. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * The connections whose sockets were corked in this turn. Without it every frame is its own write system call
 * (ws corks only around a frame's header and body): a Kafka batch of 5,000 events to 1,000 tabs was 5,000 writes,
 * and writev alone was an eighth of the node's time while it drained. Corked on their first frame and uncorked
 * together once the code that sent them has run to its end, a tab gets one write for all the frames of a turn.
 */
const corked: Connection[] = [];

/**
 * Corked bytes past which a turn's frames are written at once. Held back in the process, frames count as unsent
 * (bufferedAmount) against the slow-consumer bound, where written they would mostly be in the kernel's buffer:
 * a turn's burst to one tab (a Kafka batch of thousands of its events) must not close a healthy client as slow.
 */
const CORK_FLUSH_BYTES = 64 * 1024;

function uncorkAll(): void {
  for (const connection of corked.splice(0)) connection.uncork();
}

/** What a live offer came to: sent, dropped (a duplicate, held for the reader, or the send failed), or a gap. */
export type OfferOutcome = 'sent' | 'skipped' | 'gap';

/**
 * One authenticated WebSocket: its send queue with the slow-consumer bound, its keepalive and token deadlines, the
 * bucket that limits the frames it may send, and (inherited) the delivery cursor of this tab, which decides what
 * may be sent.
 */
export class Connection extends StreamCursor implements KeepaliveEntry, FrameBucket {
  private isClosed = false;
  lastSeenAt: number;
  nextPingAt: number;
  /** The token's expiry, then the end of the grace period once the client was told (ms; Infinity for never). */
  deadlineAt = Number.POSITIVE_INFINITY;
  private expiredNotice = false;
  slot = -1;
  private isCorked = false;
  frameMillisTaken = 0;
  framesRefilledAt: number;

  constructor(
    readonly id: number,
    readonly userId: string,
    readonly address: string,
    readonly ws: WebSocket,
    private readonly socket: Corkable,
    private readonly maxBufferedBytes: number,
    private readonly metrics: Metrics,
    now: number,
  ) {
    super();
    this.lastSeenAt = now;
    this.nextPingAt = now;
    this.framesRefilledAt = now;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Whether `token_expired` went out and the grace period is running. */
  get tokenExpired(): boolean {
    return this.expiredNotice;
  }

  /** The token expired and the client was told: it has until `graceUntil` to send a `refresh`. */
  startGrace(graceUntil: number): void {
    this.expiredNotice = true;
    this.deadlineAt = graceUntil;
  }

  /** Counts one frame from the client at `now` (ms); false when it is past the limit's rate and burst. */
  takeFrame(now: number, limit: FrameLimit): boolean {
    return takeFrame(this, limit, now);
  }

  /** A refreshed token: its expiry (ms, Infinity for none) is the new deadline. */
  extendTo(expiresAt: number): void {
    this.expiredNotice = false;
    this.deadlineAt = expiresAt;
  }

  /**
   * Queues a frame, unless the client has let more than the bound pile up: then it is closed as a slow consumer
   * (it will resume from its last seq), so that it never holds memory or time that belongs to other users.
   */
  send(frame: Buffer, onWritten?: (error?: Error) => void): boolean {
    if (this.isClosed) {
      this.metrics.drops.inc({ reason: 'closed' });
      return false;
    }
    // What this turn holds back is written first: unsent only while the kernel cannot take it, as uncorked.
    if (this.ws.bufferedAmount + frame.length > this.maxBufferedBytes && this.isCorked) this.flush();
    if (this.ws.bufferedAmount + frame.length > this.maxBufferedBytes) {
      this.metrics.drops.inc({ reason: 'slow_consumer' });
      this.close(CloseCode.SlowConsumer, 'Slow consumer: too much unsent data');
      return false;
    }
    this.cork();
    this.ws.send(frame, SEND_OPTIONS, onWritten);
    this.flushPastBound();
    this.metrics.messagesOut.inc();
    return true;
  }

  /**
   * Queues a replayed frame larger than the bound on its own (stored before the bound was lowered), without the
   * slow-consumer check: the caller has waited until what was queued before it was written, so the unsent data
   * stays within the bound plus this one frame, and a stream never stops for good at an event no tab could take.
   */
  sendOversized(frame: Buffer, onWritten?: (error?: Error) => void): boolean {
    if (this.isClosed) {
      this.metrics.drops.inc({ reason: 'closed' });
      return false;
    }
    this.cork();
    this.ws.send(frame, SEND_OPTIONS, onWritten);
    this.flushPastBound();
    this.metrics.messagesOut.inc();
    return true;
  }

  /** Holds this turn's frames back until the turn's code has run (see `corked`); queued writes count as unsent. */
  private cork(): void {
    if (this.isCorked) return;
    this.isCorked = true;
    this.socket.cork();
    if (corked.push(this) === 1) process.nextTick(uncorkAll);
  }

  /** Writes what is corked once it reaches CORK_FLUSH_BYTES or a quarter of the bound, whichever is less. */
  private flushPastBound(): void {
    if (this.ws.bufferedAmount >= Math.min(CORK_FLUSH_BYTES, Math.floor(this.maxBufferedBytes / 4))) this.flush();
  }

  /** Writes what is corked now; the socket stays corked for the rest of the turn. */
  private flush(): void {
    this.socket.uncork();
    this.socket.cork();
  }

  /** Writes what this turn queued, in one system call. */
  uncork(): void {
    this.isCorked = false;
    this.socket.uncork();
  }

  /** Whether a frame of `bytes` is over the slow-consumer bound on its own. */
  isOversized(bytes: number): boolean {
    return bytes > this.maxBufferedBytes;
  }

  /**
   * Whether `bytes` more can be queued while the unsent data stays under half the slow-consumer bound. A replay
   * is a burst of Herald's own making: it waits for the socket to drain below this instead of sending a whole
   * page at once and then judging a healthy client slow.
   */
  hasRoomFor(bytes: number): boolean {
    return this.ws.bufferedAmount + bytes <= this.maxBufferedBytes / 2;
  }

  /**
   * Offers a live stream event. 'gap' means events are missing before it: the caller then catches up from the
   * store, which holds every event that has been offered. 'sent' only when the frame was queued.
   */
  offer(seq: number, frame: Buffer): OfferOutcome {
    switch (this.judgeLive(seq)) {
      case 'next':
        if (!this.send(frame)) return 'skipped';
        this.sent(seq);
        return 'sent';
      case 'gap':
        return 'gap';
      case 'duplicate':
        this.metrics.drops.inc({ reason: 'duplicate' });
        return 'skipped';
      case 'held':
        return 'skipped';
    }
  }

  close(code: number, reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.ws.close(code, reason);
  }

  /** The socket is gone (its close event): nothing more is sent. */
  markClosed(): void {
    this.isClosed = true;
  }

  /** Ends the connection without a closing handshake, for peers that stopped answering. */
  terminate(): void {
    this.isClosed = true;
    this.ws.terminate();
  }
}

import { CloseCode } from '@herald/protocol';
import type { WebSocket } from 'ws';
import type { Metrics } from '../metrics.js';
import { takeFrame, type FrameBucket, type FrameLimit } from './frame-bucket.js';
import type { KeepaliveEntry } from './keepalive-wheel.js';
import { StreamCursor } from './stream-cursor.js';

const SEND_OPTIONS = { binary: false } as const;

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
  frameMillisTaken = 0;
  framesRefilledAt: number;

  constructor(
    readonly id: number,
    readonly userId: string,
    readonly address: string,
    readonly ws: WebSocket,
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
    if (this.ws.bufferedAmount + frame.length > this.maxBufferedBytes) {
      this.metrics.drops.inc({ reason: 'slow_consumer' });
      this.close(CloseCode.SlowConsumer, 'Slow consumer: too much unsent data');
      return false;
    }
    this.ws.send(frame, SEND_OPTIONS, onWritten);
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
    this.ws.send(frame, SEND_OPTIONS, onWritten);
    this.metrics.messagesOut.inc();
    return true;
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

import { CloseCode } from '@herald/protocol';
import type { WebSocket } from 'ws';
import type { Metrics } from '../metrics.js';
import type { KeepaliveEntry } from './keepalive-wheel.js';

const SEND_OPTIONS = { binary: false } as const;

/**
 * One authenticated WebSocket. Holds the delivery cursor of this tab: `lastSeq` is the last stream event sent,
 * and an event is sent only when it is exactly the next one, so that fan-out, replay and a late duplicate can
 * never reorder or repeat what the client sees.
 */
export class Connection implements KeepaliveEntry {
  lastSeq = 0;
  /** True while the connection's events come from the store (resume, gap); live events only raise pendingHigh then. */
  catchingUp = true;
  /** The highest live seq offered while catching up: the catch-up reads again until it has reached it. */
  pendingHigh = 0;
  /** Bumped by a resume request so that a replay page read for the old position is thrown away. */
  resumeGeneration = 0;
  closed = false;
  lastSeenAt: number;
  nextPingAt: number;
  /** The token's expiry, then the end of the grace period once the client was told (ms; Infinity for never). */
  deadlineAt = Number.POSITIVE_INFINITY;
  /** Whether `token_expired` went out and the grace period is running. */
  tokenExpired = false;
  slot = -1;

  constructor(
    readonly id: number,
    readonly userId: string,
    readonly address: string,
    readonly ws: WebSocket,
    private readonly maxBufferedBytes: number,
    private readonly metrics: Metrics,
    now: number,
  ) {
    this.lastSeenAt = now;
    this.nextPingAt = now;
  }

  /**
   * Queues a frame, unless the client has let more than the bound pile up: then it is closed as a slow consumer
   * (it will resume from its last seq), so that it never holds memory or time that belongs to other users.
   */
  send(frame: Buffer, onWritten?: (error?: Error) => void): boolean {
    if (this.closed) {
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
   * Whether `bytes` more can be queued while the unsent data stays under half the slow-consumer bound. A replay
   * is a burst of Herald's own making: it waits for the socket to drain below this instead of sending a whole
   * page at once and then judging a healthy client slow.
   */
  hasRoomFor(bytes: number): boolean {
    return this.ws.bufferedAmount + bytes <= this.maxBufferedBytes / 2;
  }

  /**
   * Offers a live stream event. Returns 'gap' when events are missing before it: the caller then catches up
   * from the store, which holds every event that has been offered.
   */
  offer(seq: number, frame: Buffer): 'sent' | 'skipped' | 'gap' {
    if (this.catchingUp) {
      if (seq > this.pendingHigh) this.pendingHigh = seq;
      return 'skipped';
    }
    if (seq <= this.lastSeq) {
      this.metrics.drops.inc({ reason: 'duplicate' });
      return 'skipped';
    }
    if (seq === this.lastSeq + 1) {
      if (this.send(frame)) this.lastSeq = seq;
      return 'sent';
    }
    this.pendingHigh = seq;
    return 'gap';
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close(code, reason);
  }

  /** Ends the connection without a closing handshake, for peers that stopped answering. */
  terminate(): void {
    this.closed = true;
    this.ws.terminate();
  }
}

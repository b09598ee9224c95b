import type { BroadcastMessage } from '../broker/broker.js';
import type { Hub } from '../hub/hub.js';
import type { Metrics } from '../metrics.js';
import type { Store, StoredEvent } from '../store/store.js';
import type { Connection } from './connection.js';
import { OPENING_STAMP } from './stream-cursor.js';
import { encodeBroadcast, encodeConnected, encodeEvent } from './encode.js';

export interface StreamSyncOptions {
  store: Store;
  hub: Hub<Connection>;
  metrics: Metrics;
  pingIntervalMs: number;
  /** Events read from the store per query while a connection catches up. */
  replayPageSize: number;
  /** Connections that re-read the store at once during a resync; the rest wait their turn, not the database pool. */
  resyncConcurrency: number;
  /** A store read failed for this connection: it is to be closed (it resumes from its last seq on reconnect). */
  onError(connection: Connection, error: unknown): void;
}

/**
 * Keeps every connection's view of its user's stream complete and in order; it orders and resumes, and the
 * connection's cursor (StreamCursor) decides what may be sent. Live events are offered to each tab; a tab that
 * is behind (just opened, asked to resume, or saw a gap) reads from the store instead until it has caught up
 * with everything offered meanwhile. Because an event is stored before it is offered, a store read that starts
 * after an offer always contains it: nothing is held in memory and nothing can fall between the two.
 */
export class StreamSync {
  constructor(private readonly options: StreamSyncOptions) {}

  /** Fans a stored event out to the user's tabs on this node. */
  deliver(event: StoredEvent): void {
    const tabs = this.options.hub.connectionsOf(event.userId);
    if (!tabs) return;
    const frame = encodeEvent(event);
    let sent = 0;
    for (const connection of tabs) {
      const outcome = connection.offer(event.seq, frame);
      if (outcome === 'sent') sent++;
      else if (outcome === 'gap') void this.catchUp(connection);
    }
    this.options.metrics.eventsDelivered.inc(sent);
  }

  /**
   * Every live connection reads the store after its last seq, for events that may have been missed without a
   * later one to show the gap (the link between nodes was down). One already catching up reads once more.
   */
  async resyncAll(): Promise<void> {
    const waiting = [...this.options.hub.all()];
    const worker = async (): Promise<void> => {
      for (let connection = waiting.pop(); connection; connection = waiting.pop()) {
        if (!connection.closed && connection.recheck()) await this.catchUp(connection);
      }
    };
    await Promise.all(Array.from({ length: this.options.resyncConcurrency }, worker));
  }

  broadcast(message: BroadcastMessage): void {
    const frame = encodeBroadcast(message);
    for (const connection of this.options.hub.all()) connection.send(frame);
  }

  /**
   * Starts an admitted connection: it is in the hub already (so live events raise its reader's goal), then it
   * learns the user's head, and replays from `since` (or from the head when the client gave none).
   */
  async open(connection: Connection, since: number | undefined): Promise<void> {
    let head: number;
    try {
      head = await this.options.store.headSeq(connection.userId);
      if (connection.closed) return;
      // A client ahead of the store (a reset database) starts over from the head it is told about.
      const start = since === undefined ? head : Math.min(since, head);
      connection.startAt(start);
      connection.send(
        encodeConnected({ user_id: connection.userId, seq: head, since: start, ping_interval_ms: this.options.pingIntervalMs }),
      );
    } catch (error) {
      this.options.onError(connection, error);
      return;
    }
    // A client that starts at the head has nothing to replay unless an event was offered since the head was read:
    // in a connect storm or a restart most clients skip the store read. No await between here and going live.
    if (connection.tryGoLive(head, OPENING_STAMP)) return;
    await this.catchUp(connection);
  }

  /** A `resume` frame: replay everything after `since` again, whatever this connection already sent. */
  async resume(connection: Connection, since: number): Promise<void> {
    let head: number;
    try {
      head = await this.options.store.headSeq(connection.userId);
    } catch (error) {
      this.options.onError(connection, error);
      return;
    }
    if (connection.closed) return;
    if (connection.resumeFrom(Math.min(since, head))) await this.catchUp(connection);
  }

  /** The one reader of a connection that is catching up (its cursor guarantees there is never a second). */
  private async catchUp(connection: Connection): Promise<void> {
    const pageSize = this.options.replayPageSize;
    try {
      for (;;) {
        const stamp = connection.stamp;
        const events = await this.options.store.eventsAfter(connection.userId, connection.lastSeq, pageSize);
        if (connection.closed) return;
        if (stamp !== connection.stamp) continue;
        const sent = await this.sendPage(connection, events, stamp);
        if (!sent || connection.closed) return;
        // No await between the last check and going live: an event offered from now on is judged live.
        if (events.length < pageSize && connection.tryGoLive(connection.lastSeq, stamp)) return;
      }
    } catch (error) {
      this.options.onError(connection, error);
    }
  }

  /**
   * Sends one page and waits until it has reached the socket, so a long replay never piles up in memory. Within
   * the page it waits for the socket to drain whenever the unsent data nears the slow-consumer bound, so a page
   * larger than the bound is paced by the client's reading, not refused. A resume during such a wait ends the
   * page (the caller starts over from the new position), so this never moves the cursor past a newer request.
   */
  private async sendPage(connection: Connection, events: StoredEvent[], stamp: number): Promise<boolean> {
    let written: Promise<void> = Promise.resolve();
    for (const event of events) {
      const frame = encodeEvent(event);
      if (!connection.hasRoomFor(frame.length)) {
        await written;
        if (connection.closed) return false;
        if (stamp !== connection.stamp) return true;
      }
      const oversized = connection.isOversized(frame.length);
      written = new Promise((resolve) => {
        const done = (): void => resolve();
        if (!(oversized ? connection.sendOversized(frame, done) : connection.send(frame, done))) resolve();
      });
      if (connection.closed) return false;
      connection.sent(event.seq);
      this.options.metrics.eventsDelivered.inc();
    }
    await written;
    return !connection.closed;
  }
}

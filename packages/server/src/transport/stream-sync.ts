import { setImmediate as nextTurn } from 'node:timers/promises';
import type { BroadcastMessage } from '../broker/broker.js';
import type { Hub } from '../hub/hub.js';
import type { Metrics } from '../metrics.js';
import { EVENTS_PAGE_BYTES, type Store, type StoredEvent, type StreamBounds } from '../store/store.js';
import type { Connection } from './connection.js';
import { OPENING_STAMP } from './stream-cursor.js';
import { encodeBroadcast, encodeConnected, encodeEvent, encodeReset } from './encode.js';

export interface StreamSyncOptions {
  store: Store;
  hub: Hub<Connection>;
  metrics: Metrics;
  pingIntervalMs: number;
  /** Events read from the store per query while a connection catches up. */
  replayPageSize: number;
  /** The slow-consumer bound (HERALD_MAX_BUFFERED_BYTES), which also sizes replay pages in bytes. */
  maxBufferedBytes: number;
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
  /**
   * Payload bytes per replay page: half the slow-consumer bound, since a replay lets its socket hold the other half
   * before it waits (Connection.hasRoomFor), so a tab's replay holds about the bound (plus one event) however large
   * its events. Never more than the store's default: a larger page saves no query (500 events of a usual size are
   * far below it) and only holds more memory, and a longer slice of the event loop, per tab.
   */
  private readonly pageBytes: number;

  constructor(private readonly options: StreamSyncOptions) {
    this.pageBytes = Math.max(1, Math.min(EVENTS_PAGE_BYTES, Math.floor(options.maxBufferedBytes / 2)));
  }

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
    if (sent > 0) this.options.metrics.observeDeliveryLatency(event.createdAt);
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
   * learns the user's head, and replays from `since` (or from the head when the client gave none). A `since` that
   * the stream cannot replay from (see cannotReplay) starts at the head with a `reset` frame instead.
   */
  async open(connection: Connection, since: number | undefined): Promise<void> {
    let head: number;
    try {
      const bounds = await this.options.store.streamBounds(connection.userId);
      head = bounds.headSeq;
      if (connection.closed) return;
      const reset = since !== undefined && cannotReplay(since, bounds);
      const start = since === undefined || reset ? head : since;
      connection.startAt(start);
      connection.send(
        encodeConnected({ user_id: connection.userId, seq: head, since: start, ping_interval_ms: this.options.pingIntervalMs }),
      );
      if (reset) connection.send(encodeReset(head));
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
    let bounds: StreamBounds;
    try {
      bounds = await this.options.store.streamBounds(connection.userId);
    } catch (error) {
      this.options.onError(connection, error);
      return;
    }
    if (connection.closed) return;
    const reset = cannotReplay(since, bounds);
    const replays = connection.resumeFrom(reset ? bounds.headSeq : since);
    if (reset) connection.send(encodeReset(bounds.headSeq));
    if (replays) await this.catchUp(connection);
  }

  /**
   * The one reader of a connection that is catching up (its cursor guarantees there is never a second). Between
   * pages it lets the event loop run: SQLite reads are synchronous and a socket's write callbacks come on the
   * next tick, so without it a long replay to a fast reader would hold every other user's deliveries, requests
   * and timers until it ended.
   */
  private async catchUp(connection: Connection): Promise<void> {
    const { replayPageSize: pageSize } = this.options;
    try {
      for (let first = true; ; first = false) {
        if (!first) {
          await nextTurn();
          if (connection.closed) return;
        }
        const stamp = connection.stamp;
        const events = await this.options.store.eventsAfter(connection.userId, connection.lastSeq, pageSize, this.pageBytes);
        if (connection.closed) return;
        if (stamp !== connection.stamp) continue;
        const sent = await this.sendPage(connection, events, stamp);
        if (!sent || connection.closed) return;
        // No await between the last check and going live: an event offered from now on is judged live.
        if (this.endsStream(events) && connection.tryGoLive(connection.lastSeq, stamp)) return;
      }
    } catch (error) {
      this.options.onError(connection, error);
    }
  }

  /**
   * Whether a page was the last of what the store held when it was read: short of both the count and the byte
   * budget (a page cut by size is short of the count too). Measured as the store measures (see eventsAfter).
   */
  private endsStream(events: readonly StoredEvent[]): boolean {
    if (events.length >= this.options.replayPageSize) return false;
    let bytes = 0;
    for (const event of events) {
      bytes += Buffer.byteLength(event.payloadJson ?? JSON.stringify(event.payload));
      if (bytes >= this.pageBytes) return false;
    }
    return true;
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

/**
 * Whether a stream cannot be replayed from `since`: its events after `since` are not all kept (retention removed
 * those up to floorSeq), or `since` is past the head (the user was erased and started again, or the database was
 * replaced). Either way a replay would be a silent gap; the client is told to reload instead.
 */
function cannotReplay(since: number, { headSeq, floorSeq }: StreamBounds): boolean {
  return since < floorSeq || since > headSeq;
}

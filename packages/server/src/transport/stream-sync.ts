import type { BroadcastMessage } from '../broker/broker.js';
import type { AdmitResult, Hub } from '../hub/hub.js';
import type { Metrics } from '../metrics.js';
import type { Store, StoredEvent } from '../store/store.js';
import type { Connection } from './connection.js';
import { encodeBroadcast, encodeConnected, encodeEvent } from './encode.js';

export interface StreamSyncOptions {
  store: Store;
  hub: Hub;
  metrics: Metrics;
  pingIntervalMs: number;
  /**
   * The part of admission that needs the network (a cluster's per-user limit, the user's subscription): awaited
   * before the connection first reads the store. Admitted at once when absent.
   */
  admit?(connection: Connection): Promise<AdmitResult>;
  /** Events read from the store per query while a connection catches up. */
  pageSize?: number;
  onError(connection: Connection, error: unknown): void;
}

const DEFAULT_PAGE_SIZE = 500;
/** Connections that re-read the store at once during a resync; the rest wait their turn, not the database pool. */
const RESYNC_CONCURRENCY = 16;

/**
 * Keeps every connection's view of its user's stream complete and in order. Live events are offered to each
 * tab; a tab that is behind (just opened, asked to resume, or saw a gap) reads from the store instead until it
 * has caught up with everything offered meanwhile. Because an event is stored before it is offered, a store read
 * that starts after an offer always contains it: nothing is held in memory and nothing can fall between the two.
 */
export class StreamSync {
  private readonly pageSize: number;

  constructor(private readonly options: StreamSyncOptions) {
    this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
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
  }

  /**
   * Every connection reads the store after its last seq, for events that may have been missed without a later
   * one to show the gap (the link between nodes was down). A connection already catching up will read them anyway.
   */
  async resyncAll(): Promise<void> {
    const waiting = [...this.options.hub.all()];
    const worker = async (): Promise<void> => {
      for (let connection = waiting.pop(); connection; connection = waiting.pop()) {
        if (!connection.closed && !connection.catchingUp) await this.catchUp(connection);
      }
    };
    await Promise.all(Array.from({ length: RESYNC_CONCURRENCY }, worker));
  }

  broadcast(message: BroadcastMessage): void {
    const frame = encodeBroadcast(message);
    for (const connection of this.options.hub.all()) connection.send(frame);
  }

  /**
   * Starts a freshly admitted connection: it is already in the hub (so live events raise pendingHigh), then it
   * learns the user's head, and replays from `since` (or from the head when the client gave none).
   */
  async open(connection: Connection, since: number | undefined): Promise<void> {
    // Taken before the first await: a resume frame handled while this one waits is the client's later word.
    const generation = connection.resumeGeneration;
    let head: number;
    try {
      const admitted = (await this.options.admit?.(connection)) ?? { ok: true };
      if (connection.closed) return;
      if (!admitted.ok) {
        this.options.metrics.refusedConnections.inc({ reason: 'limit' });
        connection.close(admitted.code, admitted.reason);
        return;
      }
      head = await this.options.store.headSeq(connection.userId);
      if (connection.closed) return;
      // A client ahead of the store (a reset database) starts over from the head it is told about.
      const start = since === undefined ? head : Math.min(since, head);
      // A resume frame sent right after the socket opened may have been handled while admission or the head read
      // waited (its own read can finish first on another pooled connection): the client's later request wins.
      if (generation === connection.resumeGeneration) connection.lastSeq = start;
      connection.send(
        encodeConnected({
          user_id: connection.userId,
          seq: head,
          since: start,
          ping_interval_ms: this.options.pingIntervalMs,
        }),
      );
    } catch (error) {
      this.options.onError(connection, error);
      return;
    }
    // A client that starts at the head has nothing to replay unless an event was offered since the head was read
    // (it is in the hub, so any such offer raised pendingHigh): in a connect storm or a restart most clients skip
    // the store read. No await between this check and going live.
    const current = generation === connection.resumeGeneration && connection.lastSeq === head;
    if (current && connection.pendingHigh <= head) {
      connection.catchingUp = false;
      return;
    }
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
    connection.pendingHigh = Math.max(connection.pendingHigh, connection.lastSeq);
    connection.lastSeq = Math.min(since, head);
    connection.resumeGeneration++;
    if (!connection.catchingUp) await this.catchUp(connection);
  }

  private async catchUp(connection: Connection): Promise<void> {
    connection.catchingUp = true;
    try {
      for (;;) {
        const generation = connection.resumeGeneration;
        const events = await this.options.store.eventsAfter(connection.userId, connection.lastSeq, this.pageSize);
        if (connection.closed) return;
        if (generation !== connection.resumeGeneration) continue;
        const sent = await this.sendPage(connection, events, generation);
        if (!sent || connection.closed) return;
        if (generation !== connection.resumeGeneration) continue;
        if (events.length < this.pageSize && connection.pendingHigh <= connection.lastSeq) break;
      }
    } catch (error) {
      this.options.onError(connection, error);
      return;
    }
    // No await between the last check and here: an event offered from now on is judged live.
    connection.catchingUp = false;
  }

  /**
   * Sends one page and waits until it has reached the socket, so a long replay never piles up in memory. Within
   * the page it waits for the socket to drain whenever the unsent data nears the slow-consumer bound, so a page
   * larger than the bound is paced by the client's reading, not refused. A resume during such a wait ends the
   * page (the caller starts over from the new position), so this never moves lastSeq past a newer request.
   */
  private async sendPage(connection: Connection, events: StoredEvent[], generation: number): Promise<boolean> {
    let written: Promise<void> = Promise.resolve();
    for (const event of events) {
      const frame = encodeEvent(event);
      if (!connection.hasRoomFor(frame.length)) {
        await written;
        if (connection.closed) return false;
        if (generation !== connection.resumeGeneration) return true;
      }
      written = new Promise((resolve) => {
        if (!connection.send(frame, () => resolve())) resolve();
      });
      if (connection.closed) return false;
      connection.lastSeq = event.seq;
      this.options.metrics.eventsDelivered.inc();
    }
    await written;
    return !connection.closed;
  }
}

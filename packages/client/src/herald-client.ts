import { CloseCode, fullNotification, needsNewToken, shouldReconnect, type ConnectedFrame, type StreamFrame } from '@herald/protocol';
import { DEFAULT_RECONNECT } from './backoff.js';
import { systemClock, type Clock } from './clock.js';
import { TOKEN_PROVIDER_ERROR, type ConnectionState, type HeraldClientEvents } from './client-events.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_LIVENESS_GRACE_MS,
  DEFAULT_RESUME_RETRY_MS,
  type HeraldClientOptions,
} from './client-options.js';
import { ConnectionTiming } from './connection-timing.js';
import { Emitter, type Disposer } from './emitter.js';
import {
  InboxApi,
  type ActionAnswer,
  type ListOptions,
  type NotificationChange,
  type NotificationCounts,
  type NotificationPage,
  type NotificationSelection,
  type UnreadCount,
} from './inbox-api.js';
import { dispatchServerFrame, encodeClientFrame, PONG } from './server-frames.js';
import { StreamPosition } from './stream-position.js';
import { TokenKeeper, type TokenSource } from './token-keeper.js';
import {
  LocalCloseCode,
  openSocket,
  ReadyState,
  socketUrl,
  type SocketListener,
  type WebSocketConstructor,
  type WebSocketLike,
} from './web-socket.js';

export type { ConnectedInfo, ConnectionState, HeraldClientEvents } from './client-events.js';
export type { HeraldClientOptions } from './client-options.js';
export type { TokenSource } from './token-keeper.js';
export type { WebSocketConstructor, WebSocketLike } from './web-socket.js';

/**
 * Herald's client: one WebSocket with reconnects that never give up by default (exponential backoff, full
 * jitter), resume by seq so nothing is lost or repeated across drops, a gap check, and the inbox REST calls.
 * Instances share nothing; create one per user session.
 */
export class HeraldClient {
  readonly #url: string;
  readonly #connectTimeoutMs: number;
  readonly #clock: Clock;
  readonly #WebSocket: WebSocketConstructor;
  readonly #events = new Emitter<HeraldClientEvents>();
  readonly #tokens: TokenKeeper;
  readonly #stream: StreamPosition;
  readonly #timing: ConnectionTiming;
  readonly #api: InboxApi;
  readonly #socketListener: SocketListener = {
    message: (ws, data) => this.#onMessage(ws, data),
    close: (ws, code) => this.#onClose(ws, code),
  };
  #state: ConnectionState = 'closed';
  #ws: WebSocketLike | undefined;
  #wantOpen = false;
  #opening = false;
  #awaitingToken = false;
  #everConnected = false;
  #detachOnline: Disposer | undefined;

  constructor(options: HeraldClientOptions) {
    this.#url = options.url;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.#clock = options.clock ?? systemClock;
    const ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (ctor === undefined) throw new TypeError('No WebSocket available: pass the WebSocket option (e.g. from the ws package)');
    this.#WebSocket = ctor;
    this.#tokens = new TokenKeeper(options.token);
    this.#stream = new StreamPosition(options.since, options.resumeRetryMs ?? DEFAULT_RESUME_RETRY_MS);
    this.#timing = new ConnectionTiming({
      clock: this.#clock,
      reconnect: { ...DEFAULT_RECONNECT, ...options.reconnect },
      random: options.random ?? Math.random,
      livenessGraceMs: options.livenessGraceMs ?? DEFAULT_LIVENESS_GRACE_MS,
    });
    this.#api = new InboxApi({
      baseUrl: options.url,
      token: (fresh) => this.#tokens.forRequest(fresh),
      fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    });
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The seq of the last stream event delivered, which the next connection resumes after. */
  get lastSeq(): number | undefined {
    return this.#stream.last;
  }

  /** The user Herald authenticated, once connected. */
  get userId(): string | undefined {
    return this.#stream.userId;
  }

  on<K extends keyof HeraldClientEvents>(event: K, listener: (...args: HeraldClientEvents[K]) => void): Disposer {
    return this.#events.on(event, listener);
  }

  /** Opens the connection and keeps it open until close(). */
  connect(): void {
    if (this.#wantOpen) return;
    this.#wantOpen = true;
    this.#timing.resetAttempts();
    this.#watchNetwork();
    void this.#open();
  }

  /** Closes the connection and stops reconnecting; connect() starts again from the same seq. */
  close(): void {
    this.#wantOpen = false;
    this.#awaitingToken = false;
    this.#detachOnline?.();
    this.#detachOnline = undefined;
    this.#timing.cancelRetry();
    this.#timing.disarmLiveness();
    const ws = this.#ws;
    this.#ws = undefined;
    if (ws !== undefined) ws.close(LocalCloseCode.Normal, 'Client closed');
    this.#setState('closed');
  }

  /**
   * Replaces the token (or provider): an open connection sends it to Herald as a refresh, and a client stopped by
   * 4001 or 4002 reconnects with it at once.
   */
  setToken(token: TokenSource): void {
    this.#tokens.replace(token);
    if (this.#ws !== undefined && this.#state === 'open') void this.#refreshToken(this.#ws);
    if (this.#awaitingToken && this.#wantOpen) {
      this.#awaitingToken = false;
      this.#timing.resetAttempts();
      void this.#open();
    }
  }

  /** Skips the current backoff wait (e.g. when the network is back). */
  reconnectNow(): void {
    if (!this.#wantOpen || this.#awaitingToken || this.#ws !== undefined || this.#opening) return;
    this.#timing.cancelRetry();
    void this.#open();
  }

  list(options?: ListOptions): Promise<NotificationPage> {
    return this.#api.list(options);
  }

  unreadCount(): Promise<UnreadCount> {
    return this.#api.unreadCount();
  }

  /** The unread and unseen counts, in total and per category, with the seq they were read at. */
  counts(): Promise<NotificationCounts> {
    return this.#api.counts();
  }

  /** Marks read (and seen) these ids, or every notification the filter matches; resolves to the ids it changed. */
  markRead(selection: NotificationSelection): Promise<string[]> {
    return this.#api.markRead(selection);
  }

  markAllRead(): Promise<boolean> {
    return this.#api.markAllRead();
  }

  markSeen(selection: NotificationSelection): Promise<string[]> {
    return this.#api.change('mark-seen', selection);
  }

  markUnread(selection: NotificationSelection): Promise<string[]> {
    return this.#api.change('mark-unread', selection);
  }

  archive(selection: NotificationSelection): Promise<string[]> {
    return this.#api.change('archive', selection);
  }

  unarchive(selection: NotificationSelection): Promise<string[]> {
    return this.#api.change('unarchive', selection);
  }

  /** Deletes for good; every tab of the user hears notification_deleted. */
  delete(selection: NotificationSelection): Promise<string[]> {
    return this.#api.change('delete', selection);
  }

  /** Any of the bulk changes by name, e.g. from a menu of them. */
  change(change: NotificationChange, selection: NotificationSelection): Promise<string[]> {
    return this.#api.change(change, selection);
  }

  /** Records the user's action on a notification (once: a second one answers the first); the tabs hear notification_updated. */
  act(notificationId: string, actionId: string): Promise<ActionAnswer> {
    return this.#api.act(notificationId, actionId);
  }

  async #open(): Promise<void> {
    if (this.#opening || this.#ws !== undefined) return;
    this.#opening = true;
    this.#setState(this.#everConnected ? 'reconnecting' : 'connecting');
    let token: string;
    try {
      token = await this.#tokens.forConnect();
    } catch (error) {
      this.#opening = false;
      this.#providerFailed(error);
      if (this.#wantOpen) this.#retry();
      return;
    }
    this.#opening = false;
    if (!this.#wantOpen || this.#ws !== undefined) return;
    this.#ws = openSocket(this.#WebSocket, socketUrl(this.#url, this.#stream.last), token, this.#socketListener);
    this.#armLiveness(this.#connectTimeoutMs);
  }

  #onMessage(ws: WebSocketLike, data: unknown): void {
    if (ws !== this.#ws) return;
    if (this.#state === 'open') this.#armLiveness(this.#timing.silenceLimitMs);
    dispatchServerFrame(data, {
      connected: (payload) => this.#onConnected(payload),
      reset: ({ seq }) => {
        this.#stream.reset(seq);
        this.#events.emit('reset', seq);
      },
      ping: () => {
        if (ws.readyState === ReadyState.Open) ws.send(PONG);
      },
      error: (payload) => this.#events.emit('error', payload),
      tokenExpired: (graceMs) => {
        this.#events.emit('token_expired', graceMs);
        void this.#refreshToken(ws);
      },
      broadcast: (frame) => this.#events.emit('broadcast', frame),
      stream: (frame) => this.#onStreamFrame(ws, frame),
    });
  }

  #onConnected(payload: ConnectedFrame['payload']): void {
    const resumed = this.#stream.connected(payload);
    this.#timing.pingIntervalMs = payload.ping_interval_ms;
    this.#timing.resetAttempts();
    this.#everConnected = true;
    this.#setState('open');
    this.#armLiveness(this.#timing.silenceLimitMs);
    this.#events.emit('connected', payload, { resumed });
  }

  #onStreamFrame(ws: WebSocketLike, frame: StreamFrame): void {
    switch (this.#stream.judge(frame.seq, this.#clock.now())) {
      case 'deliver': {
        // Completed once here, so every listener gets the record with all its fields.
        const delivered: StreamFrame = frame.type === 'new_notification' ? { ...frame, payload: fullNotification(frame.payload) } : frame;
        this.#events.emit(delivered.type, delivered.payload as never, delivered.seq);
        this.#events.emit('event', delivered);
        return;
      }
      case 'resume':
        // A gap is a seq past `last`, so `last` is set.
        if (ws.readyState === ReadyState.Open) ws.send(encodeClientFrame({ type: 'resume', payload: { since: this.#stream.last! } }));
        return;
      case 'duplicate':
      case 'wait':
        return;
    }
  }

  #onClose(ws: WebSocketLike, code: number): void {
    if (ws !== this.#ws) return;
    this.#ws = undefined;
    this.#timing.disarmLiveness();
    if (!this.#wantOpen) return this.#setState('closed');
    if (needsNewToken(code)) return void this.#onUnauthorized();
    // The user's stream starts again from seq 1: resuming after the old seq would skip the new stream's start.
    if (code === CloseCode.UserErased) this.#stream.erased();
    // Herald said the same request would be refused again: stop as when the attempts run out.
    if (!shouldReconnect(code)) return this.#stop();
    this.#retry();
  }

  /** Herald said the token expired: a provider's new token goes over the open socket, with no reconnect. */
  async #refreshToken(ws: WebSocketLike): Promise<void> {
    // A plain token that expired cannot be renewed here; the token_expired event tells the application.
    if (!this.#tokens.renewable) return;
    try {
      const token = await this.#tokens.resolve();
      if (ws === this.#ws && ws.readyState === ReadyState.Open) ws.send(encodeClientFrame({ type: 'refresh', payload: { token } }));
    } catch (error) {
      this.#providerFailed(error);
    }
  }

  async #onUnauthorized(): Promise<void> {
    const rejected = this.#tokens.current;
    this.#events.emit('unauthorized');
    // A provider that hands out a new token is the refresh; without one, wait for setToken().
    if (this.#tokens.hasProvider && (await this.#tokens.renewAfterRefusal(rejected))) return this.#retry();
    if (!this.#wantOpen) return;
    this.#awaitingToken = true;
    this.#setState('closed');
  }

  #retry(): void {
    if (!this.#wantOpen) return;
    const delay = this.#timing.nextRetryDelay();
    if (delay === undefined) return this.#stop();
    this.#setState(this.#everConnected ? 'reconnecting' : 'connecting');
    this.#timing.retryAfter(delay, () => void this.#open());
  }

  #stop(): void {
    this.#wantOpen = false;
    this.#setState('closed');
  }

  #armLiveness(ms: number): void {
    this.#timing.armLiveness(ms, () => {
      const ws = this.#ws;
      if (ws === undefined) return;
      // The close handshake cannot finish on a dead path, so the socket is dropped here rather than awaited.
      this.#ws = undefined;
      ws.close(LocalCloseCode.ClientTimeout, 'No answer from Herald');
      this.#retry();
    });
  }

  #watchNetwork(): void {
    const target = globalThis as { addEventListener?: (type: string, listener: () => void) => void; removeEventListener?: (type: string, listener: () => void) => void };
    if (typeof target.addEventListener !== 'function' || typeof target.removeEventListener !== 'function') return;
    const online = () => this.reconnectNow();
    target.addEventListener('online', online);
    this.#detachOnline = () => target.removeEventListener?.('online', online);
  }

  #providerFailed(error: unknown): void {
    this.#events.emit('error', { code: TOKEN_PROVIDER_ERROR, message: error instanceof Error ? error.message : String(error) });
  }

  #setState(state: ConnectionState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#events.emit('state', state);
  }
}

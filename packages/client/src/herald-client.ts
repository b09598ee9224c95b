import {
  handshakeProtocols,
  needsNewToken,
  WS_PATH,
  type BroadcastFrame,
  type ConnectedFrame,
  type ServerFrame,
  type StreamFrame,
} from '@herald/protocol';
import { backoffDelay, DEFAULT_RECONNECT, type ReconnectOptions } from './backoff.js';
import { systemClock, type Clock } from './clock.js';
import { Emitter, type Disposer } from './emitter.js';
import { InboxApi, type ListOptions, type NotificationPage, type UnreadCount } from './inbox-api.js';
import { SeqTracker } from './seq-tracker.js';

/** `connecting` before the first open, `reconnecting` after a drop, `closed` when stopped or given up. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** A token, or a function Herald's client calls for a fresh one on every (re)connect and after a 401. */
export type TokenSource = string | (() => string | Promise<string>);

/**
 * A handler whose event type is checked both ways, so that the browser's and the `ws` package's richer event
 * types fit (the same trick React's typings use for DOM handlers).
 */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** The part of the WebSocket API the client uses: the browser's WebSocket and the `ws` package both have it. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
}

export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;

type StreamPayload<T extends StreamFrame['type']> = Extract<StreamFrame, { type: T }>['payload'];

/** What `connected` tells besides the server's frame. */
export interface ConnectedInfo {
  /** True when this connection continues the stream from where the last one stopped. */
  resumed: boolean;
}

export interface HeraldClientEvents {
  [event: string]: unknown[];
  new_notification: [payload: StreamPayload<'new_notification'>, seq: number];
  task_update: [payload: StreamPayload<'task_update'>, seq: number];
  notification_read: [payload: StreamPayload<'notification_read'>, seq: number];
  all_read: [payload: StreamPayload<'all_read'>, seq: number];
  /** Every stream event, once each and in seq order, across reconnects. */
  event: [frame: StreamFrame];
  /** A broadcast: not stored, no seq, only for clients connected when it was sent. */
  broadcast: [frame: BroadcastFrame];
  connected: [payload: ConnectedFrame['payload'], info: ConnectedInfo];
  state: [state: ConnectionState];
  /** An `error` frame from Herald, or a token provider that threw. */
  error: [error: { code: string; message: string }];
  /**
   * Herald refused the token (4001) or closed on its expiry (4002); the client waits for `setToken()` unless the
   * provider gave a new one.
   */
  unauthorized: [];
  /**
   * The open connection's token expired; Herald closes it after `graceMs` unless a new token arrives. A token
   * provider is asked by itself; with a plain token, call setToken() with a new one.
   */
  token_expired: [graceMs: number];
}

export interface HeraldClientOptions {
  /** Herald's base URL (`https://herald.example.com`); the WebSocket URL is derived from it. */
  url: string;
  token: TokenSource;
  /** Resume after this seq on the first connect (e.g. kept from an earlier page load). */
  since?: number;
  reconnect?: Partial<ReconnectOptions>;
  /** How long a handshake may take before the attempt counts as failed. */
  connectTimeoutMs?: number;
  /** Extra silence allowed past two of the server's ping intervals before the connection is presumed dead. */
  livenessGraceMs?: number;
  /** How long to wait for a requested gap replay before asking again. */
  resumeRetryMs?: number;
  /** Defaults to the global WebSocket (browsers, Node 22+); other runtimes pass a constructor, e.g. from `ws`. */
  WebSocket?: WebSocketConstructor;
  fetch?: typeof fetch;
  clock?: Clock;
  random?: () => number;
}

// WebSocket readyState values.
const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;
/** What a WebSocket reports for a connection that ended without a close frame (RFC 6455, 7.1.5). */
const ABNORMAL_CLOSURE = 1006;
/** Our own code for closing a connection that went silent; never sent by Herald. */
const CLIENT_TIMEOUT = 4000;

/**
 * Herald's client: one WebSocket with reconnects that never give up by default (exponential backoff, full
 * jitter), resume by seq so nothing is lost or repeated across drops, a gap check, and the inbox REST calls.
 * Instances share nothing; create one per user session.
 */
export class HeraldClient {
  readonly #options: HeraldClientOptions;
  readonly #reconnect: ReconnectOptions;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #WebSocket: WebSocketConstructor;
  readonly #events = new Emitter<HeraldClientEvents>();
  readonly #tracker: SeqTracker;
  readonly #api: InboxApi;
  #tokenSource: TokenSource;
  #token: string | undefined;
  /** A token fetched after a 4001 that the next attempt uses instead of asking the provider again. */
  #freshToken: string | undefined;
  #state: ConnectionState = 'closed';
  #ws: WebSocketLike | undefined;
  #wantOpen = false;
  #opening = false;
  #awaitingToken = false;
  #everConnected = false;
  #attempt = 0;
  #retryTimer: unknown;
  #livenessTimer: unknown;
  #pingIntervalMs = 0;
  #resumeAskedAt: number | undefined;
  #userId: string | undefined;
  #detachOnline: Disposer | undefined;

  constructor(options: HeraldClientOptions) {
    this.#options = options;
    this.#reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect };
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    const ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (ctor === undefined) throw new TypeError('No WebSocket available: pass the WebSocket option (e.g. from the ws package)');
    this.#WebSocket = ctor;
    this.#tokenSource = options.token;
    this.#tracker = new SeqTracker(options.since);
    this.#api = new InboxApi({
      baseUrl: options.url,
      token: (fresh) => (fresh || this.#token === undefined ? this.#resolveToken() : Promise.resolve(this.#token)),
      fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    });
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The seq of the last stream event delivered, which the next connection resumes after. */
  get lastSeq(): number | undefined {
    return this.#tracker.last;
  }

  /** The user Herald authenticated, once connected. */
  get userId(): string | undefined {
    return this.#userId;
  }

  on<K extends keyof HeraldClientEvents>(event: K, listener: (...args: HeraldClientEvents[K]) => void): Disposer {
    return this.#events.on(event, listener);
  }

  /** Opens the connection and keeps it open until close(). */
  connect(): void {
    if (this.#wantOpen) return;
    this.#wantOpen = true;
    this.#attempt = 0;
    this.#watchNetwork();
    void this.#open();
  }

  /** Closes the connection and stops reconnecting; connect() starts again from the same seq. */
  close(): void {
    this.#wantOpen = false;
    this.#awaitingToken = false;
    this.#detachOnline?.();
    this.#detachOnline = undefined;
    this.#clock.clearTimeout(this.#retryTimer);
    this.#clock.clearTimeout(this.#livenessTimer);
    const ws = this.#ws;
    this.#ws = undefined;
    if (ws !== undefined) ws.close(1000, 'Client closed');
    this.#setState('closed');
  }

  /**
   * Replaces the token (or provider): an open connection sends it to Herald as a refresh, and a client stopped by
   * 4001 or 4002 reconnects with it at once.
   */
  setToken(token: TokenSource): void {
    this.#tokenSource = token;
    this.#token = undefined;
    this.#freshToken = undefined;
    if (this.#ws !== undefined && this.#state === 'open') void this.#refreshToken(this.#ws);
    if (this.#awaitingToken && this.#wantOpen) {
      this.#awaitingToken = false;
      this.#attempt = 0;
      void this.#open();
    }
  }

  /** Skips the current backoff wait (e.g. when the network is back). */
  reconnectNow(): void {
    if (!this.#wantOpen || this.#awaitingToken || this.#ws !== undefined || this.#opening) return;
    this.#clock.clearTimeout(this.#retryTimer);
    void this.#open();
  }

  list(options?: ListOptions): Promise<NotificationPage> {
    return this.#api.list(options);
  }

  unreadCount(): Promise<UnreadCount> {
    return this.#api.unreadCount();
  }

  markRead(ids: readonly string[]): Promise<string[]> {
    return this.#api.markRead(ids);
  }

  markAllRead(): Promise<boolean> {
    return this.#api.markAllRead();
  }

  async #open(): Promise<void> {
    if (this.#opening || this.#ws !== undefined) return;
    this.#opening = true;
    this.#setState(this.#everConnected ? 'reconnecting' : 'connecting');
    let token: string;
    try {
      token = this.#freshToken ?? (await this.#resolveToken());
      this.#freshToken = undefined;
    } catch (error) {
      this.#opening = false;
      this.#providerFailed(error);
      if (this.#wantOpen) this.#retry();
      return;
    }
    this.#opening = false;
    if (!this.#wantOpen || this.#ws !== undefined) return;
    const ws = new this.#WebSocket(this.#socketUrl(), handshakeProtocols(token));
    this.#ws = ws;
    ws.onmessage = (event) => this.#onMessage(ws, event.data);
    ws.onclose = (event) => this.#onClose(ws, event.code);
    // A failed handshake: browsers, ws and Node 24 follow the error with a close event, but Node 22's global
    // WebSocket reports only the error and stays CONNECTING, so the retry is scheduled from whichever comes first
    // (#onClose ignores the second). An error on an open socket is always followed by its close, with its code.
    ws.onerror = () => {
      if (ws.readyState === CONNECTING || ws.readyState === CLOSED) this.#onClose(ws, ABNORMAL_CLOSURE);
    };
    this.#armLiveness(this.#options.connectTimeoutMs ?? 15_000);
  }

  #socketUrl(): string {
    const url = new URL(WS_PATH, this.#options.url);
    url.protocol = url.protocol === 'https:' || url.protocol === 'wss:' ? 'wss:' : 'ws:';
    const since = this.#tracker.last;
    if (since !== undefined) url.searchParams.set('since', String(since));
    return url.toString();
  }

  async #resolveToken(): Promise<string> {
    const source = this.#tokenSource;
    this.#token = typeof source === 'string' ? source : await source();
    return this.#token;
  }

  #onMessage(ws: WebSocketLike, data: unknown): void {
    if (ws !== this.#ws) return;
    if (this.#state === 'open') this.#armLiveness(this.#silenceLimitMs());
    let frame: ServerFrame;
    try {
      frame = JSON.parse(String(data)) as ServerFrame;
    } catch {
      this.#events.emit('error', { code: 'invalid_json', message: 'Herald sent a frame that is not JSON' });
      return;
    }
    switch (frame.type) {
      case 'connected':
        return this.#onConnected(frame.payload);
      case 'ping':
        if (ws.readyState === OPEN) ws.send('{"type":"pong","payload":{}}');
        return;
      case 'pong':
        return;
      case 'error':
        this.#events.emit('error', frame.payload);
        return;
      case 'token_expired':
        this.#events.emit('token_expired', frame.payload.grace_ms);
        return void this.#refreshToken(ws);
      case 'token_refreshed':
        return;
      default:
        if ('broadcast' in frame) this.#events.emit('broadcast', frame);
        else if (typeof frame.seq === 'number') this.#onStreamFrame(ws, frame);
    }
  }

  #onConnected(payload: ConnectedFrame['payload']): void {
    const sameUser = this.#userId === undefined || this.#userId === payload.user_id;
    const asked = this.#tracker.last;
    // A different user's stream shares nothing with the old one: start at its head, and let the replay of the
    // old seq range fall away as duplicates.
    this.#tracker.reset(sameUser ? payload.since : payload.seq);
    this.#userId = payload.user_id;
    this.#pingIntervalMs = payload.ping_interval_ms;
    this.#resumeAskedAt = undefined;
    this.#attempt = 0;
    this.#everConnected = true;
    this.#setState('open');
    this.#armLiveness(this.#silenceLimitMs());
    this.#events.emit('connected', payload, { resumed: sameUser && asked !== undefined && payload.since === asked });
  }

  #onStreamFrame(ws: WebSocketLike, frame: StreamFrame): void {
    switch (this.#tracker.judge(frame.seq)) {
      case 'deliver':
        this.#resumeAskedAt = undefined;
        this.#events.emit(frame.type, frame.payload as never, frame.seq);
        this.#events.emit('event', frame);
        return;
      case 'duplicate':
        return;
      case 'gap': {
        // Herald replays from the store after `since`; until it does, later events wait their turn there.
        const now = this.#clock.now();
        const retryMs = this.#options.resumeRetryMs ?? 5000;
        if (this.#resumeAskedAt !== undefined && now - this.#resumeAskedAt < retryMs) return;
        this.#resumeAskedAt = now;
        if (ws.readyState === OPEN) ws.send(JSON.stringify({ type: 'resume', payload: { since: this.#tracker.last } }));
      }
    }
  }

  #onClose(ws: WebSocketLike, code: number): void {
    if (ws !== this.#ws) return;
    this.#ws = undefined;
    this.#clock.clearTimeout(this.#livenessTimer);
    if (!this.#wantOpen) return this.#setState('closed');
    if (needsNewToken(code)) return void this.#onUnauthorized();
    this.#retry();
  }

  /** Herald said the token expired: a provider's new token goes over the open socket, with no reconnect. */
  async #refreshToken(ws: WebSocketLike): Promise<void> {
    // A plain token that expired cannot be renewed here; the token_expired event tells the application.
    if (typeof this.#tokenSource !== 'function' && this.#token === this.#tokenSource) return;
    try {
      const token = await this.#resolveToken();
      if (ws === this.#ws && ws.readyState === OPEN) ws.send(JSON.stringify({ type: 'refresh', payload: { token } }));
    } catch (error) {
      this.#providerFailed(error);
    }
  }

  async #onUnauthorized(): Promise<void> {
    const rejected = this.#token;
    this.#events.emit('unauthorized');
    if (typeof this.#tokenSource === 'function') {
      try {
        // A provider that hands out a new token is the refresh; the same token again means there is none yet.
        const fresh = await this.#resolveToken();
        if (fresh !== rejected) {
          this.#freshToken = fresh;
          return this.#retry();
        }
      } catch {
        // Treated like a provider with nothing new: wait for setToken().
      }
    }
    if (!this.#wantOpen) return;
    this.#awaitingToken = true;
    this.#setState('closed');
  }

  #retry(): void {
    if (!this.#wantOpen) return;
    this.#attempt++;
    if (this.#attempt > this.#reconnect.maxAttempts) {
      this.#wantOpen = false;
      this.#setState('closed');
      return;
    }
    this.#setState(this.#everConnected ? 'reconnecting' : 'connecting');
    const delay = backoffDelay(this.#attempt, this.#reconnect, this.#random);
    this.#retryTimer = this.#clock.setTimeout(() => void this.#open(), delay);
  }

  /** Herald pings every ping_interval_ms; two missed pings and a grace mean the path is dead (half-open TCP). */
  #silenceLimitMs(): number {
    return this.#pingIntervalMs * 2 + (this.#options.livenessGraceMs ?? 5000);
  }

  #armLiveness(ms: number): void {
    this.#clock.clearTimeout(this.#livenessTimer);
    this.#livenessTimer = this.#clock.setTimeout(() => {
      const ws = this.#ws;
      if (ws === undefined) return;
      // The close handshake cannot finish on a dead path, so the socket is dropped here rather than awaited.
      this.#ws = undefined;
      ws.close(CLIENT_TIMEOUT, 'No answer from Herald');
      this.#retry();
    }, ms);
  }

  #watchNetwork(): void {
    const target = globalThis as { addEventListener?: (type: string, listener: () => void) => void; removeEventListener?: (type: string, listener: () => void) => void };
    if (typeof target.addEventListener !== 'function' || typeof target.removeEventListener !== 'function') return;
    const online = () => this.reconnectNow();
    target.addEventListener('online', online);
    this.#detachOnline = () => target.removeEventListener?.('online', online);
  }

  #providerFailed(error: unknown): void {
    this.#events.emit('error', { code: 'token_provider', message: error instanceof Error ? error.message : String(error) });
  }

  #setState(state: ConnectionState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#events.emit('state', state);
  }
}

import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode, ErrorCode, SUBPROTOCOL, WS_PATH } from '@herald/protocol';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { TokenVerifier, VerifiedToken } from '../auth/token-verifier.js';
import type { HeraldError } from '../errors.js';
import type { Hub } from '../hub/hub.js';
import type { Metrics } from '../metrics.js';
import { decodeClientFrame } from './client-frame.js';
import { Connection } from './connection.js';
import { encodeError, encodeTokenExpired, encodeTokenRefreshed, PING_FRAME, PONG_FRAME } from './encode.js';
import { handshakeToken } from './handshake-token.js';
import { KeepaliveWheel } from './keepalive-wheel.js';
import { attachConnection, sharedListeners } from './socket-listeners.js';
import type { StreamSync } from './stream-sync.js';

export { WS_PATH };

export interface SocketServerOptions {
  hub: Hub;
  sync: StreamSync;
  verifyToken: TokenVerifier;
  metrics: Metrics;
  logger: Logger;
  pingIntervalMs: number;
  idleTimeoutMs: number;
  tokenGraceMs: number;
  maxMessageBytes: number;
  maxBufferedBytes: number;
  maxHandshakes: number;
  maxHandshakeQueue: number;
  /** How long an upgrade may wait in the handshake queue. */
  headersTimeoutMs: number;
  allowedOrigins: string[];
}

interface WaitingUpgrade {
  request: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  url: URL;
  queuedAt: number;
}

function destroySocket(this: Duplex): void {
  this.destroy();
}

type Handshake = { ok: true; token: VerifiedToken; since: number | undefined } | { ok: false; error: HeraldError | string };

/**
 * The WebSocket side of Herald: checks each upgrade (path, origin, handshake budget), verifies the token, then
 * admits the connection to the hub and hands it to StreamSync. Tokens are read here and never logged.
 */
export class SocketServer {
  private readonly wss: WebSocketServer;
  private readonly wheel: KeepaliveWheel<Connection>;
  private handshakes = 0;
  /** Upgrades past the in-flight budget, oldest first: a connect storm waits its turn instead of being refused. */
  private readonly waiting: WaitingUpgrade[] = [];
  private nextId = 1;
  private draining = false;
  private readonly listeners = sharedListeners({
    message: (connection, data, isBinary) => this.onMessage(connection, data, isBinary),
    error: (connection, error) => this.options.logger.debug({ err: error, connection: connection.id }, 'websocket error'),
    close: (connection) => this.onClose(connection),
  });

  constructor(private readonly options: SocketServerOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxMessageBytes,
      // Compression costs ~20x the memory per connection; notification frames are small.
      perMessageDeflate: false,
      clientTracking: false,
      // Only Herald's own name is ever selected: the token entry a browser offers beside it is not echoed back.
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    // ws checks the handshake's own headers (method, Upgrade, Sec-WebSocket-Key, -Version, -Protocol) and would
    // answer a bad one by itself; answering here counts it with every other malformed upgrade.
    this.wss.on('wsClientError', (error, socket, request) =>
      this.refuseMalformed(socket, error.message, request.method === 'GET' ? 400 : 405),
    );
    this.wheel = new KeepaliveWheel<Connection>({
      pingIntervalMs: options.pingIntervalMs,
      idleTimeoutMs: options.idleTimeoutMs,
      ping: (connection) => connection.send(PING_FRAME),
      expire: (connection) => {
        options.metrics.drops.inc({ reason: 'idle' });
        connection.terminate();
      },
      deadline: (connection, now) => this.onTokenDeadline(connection, now),
    });
    this.wheel.start();
  }

  /**
   * The `upgrade` listener for an http.Server. It runs inside Node's parser callback, where an exception ends the
   * process: every outside value is checked before use, and anything missed is answered 400 instead of thrown.
   */
  readonly handleUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', destroySocket);
    try {
      this.routeUpgrade(request, socket, head);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'upgrade request failed');
      if (!socket.destroyed) this.refuseMalformed(socket, 'Malformed upgrade request');
    }
  };

  private routeUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = upgradeTarget(request.url);
    if (url === null) return this.refuseMalformed(socket, 'Malformed request target');
    if (url.pathname !== WS_PATH) return this.reject(socket, 404, 'Not Found', 'not_found');
    if (this.draining) return this.reject(socket, 503, 'Service Unavailable', 'draining');
    if (!this.originAllowed(request.headers.origin)) return this.reject(socket, 403, 'Forbidden', 'origin');
    if (this.handshakes >= this.options.maxHandshakes) {
      if (this.waiting.length >= this.options.maxHandshakeQueue) return this.reject(socket, 503, 'Service Unavailable', 'handshakes');
      this.waiting.push({ request, socket, head, url, queuedAt: Date.now() });
      this.options.metrics.handshakesQueued.set(this.waiting.length);
      return;
    }
    this.startHandshake(request, socket, head, url);
  }

  /** Verifies the token of one upgrade within the in-flight budget, then hands the next waiting upgrade its slot. */
  private startHandshake(request: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    this.handshakes++;
    void this.authenticate(request, url)
      .then((handshake) => {
        this.handshakes--;
        this.startWaiting();
        if (socket.destroyed) return;
        // The drain may have begun while the token was being verified: this one is refused like any other upgrade
        // during a drain, instead of joining the hub after the 1012s went out and being cut off without one.
        if (this.draining) return this.reject(socket, 503, 'Service Unavailable', 'draining');
        this.wss.handleUpgrade(request, socket, head, (ws) => {
          // The socket is the WebSocket's now, and ws destroys it on an error itself: a second listener kept for
          // the connection's whole life would only cost memory.
          socket.off('error', destroySocket);
          this.accept(ws, request, handshake);
        });
      })
      // A rejection here would end the process as an unhandled one; what was written to the socket is unknown.
      .catch((error: unknown) => {
        this.options.logger.error({ err: error }, 'upgrade failed');
        socket.destroy();
      });
  }

  private startWaiting(): void {
    const now = Date.now();
    while (this.handshakes < this.options.maxHandshakes && this.waiting.length > 0) {
      const next = this.waiting.shift()!;
      if (next.socket.destroyed) continue;
      // A client that waited this long has likely given up; a fresh attempt of its own will queue again. (A
      // drain empties the queue itself, and nothing queues while draining.)
      if (now - next.queuedAt > this.options.headersTimeoutMs) this.reject(next.socket, 503, 'Service Unavailable', 'handshakes');
      else this.startHandshake(next.request, next.socket, next.head, next.url);
    }
    this.options.metrics.handshakesQueued.set(this.waiting.length);
  }

  get connectionCount(): number {
    return this.options.hub.connectionCount;
  }

  /**
   * Stops taking connections and closes every open one with 1012 so clients reconnect elsewhere; resolves once
   * they are closed (queued frames are flushed before each close frame) or the timeout passed.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    this.wheel.stop();
    for (const waiting of this.waiting.splice(0)) this.reject(waiting.socket, 503, 'Service Unavailable', 'draining');
    this.options.metrics.handshakesQueued.set(0);
    const closing = [...this.options.hub.all()].map(
      (connection) =>
        new Promise<void>((resolve) => {
          if (connection.ws.readyState === connection.ws.CLOSED) return resolve();
          connection.ws.once('close', () => resolve());
          connection.close(CloseCode.ServiceRestart, 'Server restarting, reconnect');
        }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.all(closing), timeout]);
    clearTimeout(timer);
    for (const connection of this.options.hub.all()) connection.terminate();
    this.wss.close();
  }

  /** Never rejects: a failure is the Handshake's, so the handshake slot it holds is always given back. */
  private async authenticate(request: IncomingMessage, url: URL): Promise<Handshake> {
    try {
      const verified = await this.options.verifyToken(handshakeToken(request, url));
      // Two values would leave the replay's start to whichever one a reader picks.
      const [since, ...more] = url.searchParams.getAll('since');
      if (more.length > 0) return { ok: false, error: 'since must be given once' };
      if (since !== undefined && !/^\d{1,15}$/.test(since)) return { ok: false, error: 'since must be a non-negative integer' };
      return { ok: true, token: verified, since: since === undefined ? undefined : Number(since) };
    } catch (error) {
      return { ok: false, error: error as HeraldError };
    }
  }

  private accept(ws: WebSocket, request: IncomingMessage, handshake: Handshake): void {
    const { metrics, logger, hub } = this.options;
    if (!handshake.ok) {
      if (typeof handshake.error === 'string') {
        metrics.refusedConnections.inc({ reason: 'bad_request' });
        refuse(ws, 1008, handshake.error);
        return;
      }
      // The close happens before any user state exists; only the reason (never the token) is logged.
      metrics.authFailures.inc();
      logger.debug({ reason: handshake.error.message }, 'websocket refused: unauthorized');
      refuse(ws, CloseCode.Unauthorized, 'Unauthorized');
      return;
    }
    const address = request.socket.remoteAddress ?? 'unknown';
    const connection = new Connection(
      this.nextId++,
      handshake.token.userId,
      address,
      ws,
      this.options.maxBufferedBytes,
      metrics,
      Date.now(),
    );
    const admitted = hub.admit(connection);
    if (!admitted.ok) {
      metrics.refusedConnections.inc({ reason: 'limit' });
      connection.closed = true;
      refuse(ws, admitted.code, admitted.reason);
      return;
    }
    connection.deadlineAt = expiryMs(handshake.token);
    this.wheel.add(connection);
    attachConnection(ws, connection);
    ws.on('message', this.listeners.message);
    ws.on('pong', this.listeners.pong);
    ws.on('error', this.listeners.error);
    ws.on('close', this.listeners.close);
    void this.options.sync.open(connection, handshake.since);
  }

  private onClose(connection: Connection): void {
    connection.closed = true;
    this.wheel.remove(connection);
    this.options.hub.remove(connection);
  }

  private onMessage(connection: Connection, data: RawData, isBinary: boolean): void {
    connection.lastSeenAt = Date.now();
    this.options.metrics.messagesIn.inc();
    if (isBinary) {
      connection.send(encodeError(ErrorCode.InvalidFrame, 'Binary frames are not supported; send JSON text'));
      return;
    }
    const decoded = decodeClientFrame(data.toString());
    if (!decoded.ok) {
      connection.send(encodeError(decoded.code, decoded.message));
      return;
    }
    switch (decoded.frame.type) {
      case 'ping':
        connection.send(PONG_FRAME);
        return;
      case 'pong':
        return;
      case 'resume':
        void this.options.sync.resume(connection, decoded.frame.payload.since);
        return;
      case 'refresh':
        void this.refresh(connection, decoded.frame.payload.token);
        return;
    }
  }

  /**
   * A token's expiry is a deadline on the keepalive wheel, not a timer per connection: first the client is told
   * and given the grace period to send a `refresh`, then the connection is closed with 4002.
   */
  private onTokenDeadline(connection: Connection, now: number): void {
    if (!connection.tokenExpired) {
      connection.tokenExpired = true;
      connection.deadlineAt = now + this.options.tokenGraceMs;
      connection.send(encodeTokenExpired(this.options.tokenGraceMs));
      return;
    }
    this.options.metrics.drops.inc({ reason: 'token_expired' });
    connection.close(CloseCode.TokenExpired, 'Token expired');
  }

  /** A new token for the same user moves the deadline; one for another user ends the connection. */
  private async refresh(connection: Connection, token: string): Promise<void> {
    let verified: VerifiedToken;
    try {
      verified = await this.options.verifyToken(token);
    } catch (error) {
      this.options.metrics.authFailures.inc();
      // The old token's deadline still runs: a bad refresh neither ends nor extends the connection.
      connection.send(encodeError(ErrorCode.Unauthorized, `Refresh refused: ${(error as HeraldError).message}`));
      return;
    }
    if (connection.closed) return;
    if (verified.userId !== connection.userId) {
      this.options.metrics.authFailures.inc();
      connection.close(CloseCode.Unauthorized, 'Refresh token is for another user');
      return;
    }
    connection.tokenExpired = false;
    connection.deadlineAt = expiryMs(verified);
    this.wheel.reschedule(connection);
    connection.send(encodeTokenRefreshed(verified.expiresAt));
  }

  private originAllowed(origin: string | undefined): boolean {
    const allowed = this.options.allowedOrigins;
    // Browsers always send Origin; a client without one is not a browser page and cannot be cross-site.
    return allowed.length === 0 || origin === undefined || allowed.includes(origin);
  }

  private reject(socket: Duplex, status: number, text: string, reason: string): void {
    this.options.metrics.refusedConnections.inc({ reason });
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }

  /** A malformed upgrade, answered in Herald's error shape and counted as `bad_request`. */
  private refuseMalformed(socket: Duplex, message: string, status: 400 | 405 = 400): void {
    this.options.metrics.refusedConnections.inc({ reason: 'bad_request' });
    const body = JSON.stringify({ error: ErrorCode.BadRequest, message });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        // RFC 6455 §4.4: a refused handshake names the version the server speaks.
        `Sec-WebSocket-Version: 13\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
}

/**
 * Closes a WebSocket that never became a connection. Its client may still send anything until the close
 * completes, and ws reports a protocol error as an 'error' event, which without a listener would end the process.
 */
function refuse(ws: WebSocket, code: number, reason: string): void {
  ws.on('error', ignoreError);
  ws.close(code, reason);
}

/** Nothing is left to clean up on a refused socket, and ws destroys it on the error itself. */
function ignoreError(): void {}

function expiryMs(token: VerifiedToken): number {
  return token.expiresAt === undefined ? Number.POSITIVE_INFINITY : token.expiresAt * 1000;
}

/**
 * The URL of an upgrade's request target, or null when it has none: origin-form is read as a path and query only
 * (`//x:99999/` is a path with an empty first segment, not a host and port), absolute-form (RFC 9112 §3.2.2) must
 * parse whole. `new URL` would throw on either, inside Node's parser callback.
 */
function upgradeTarget(target: string | undefined): URL | null {
  if (target === undefined) return null;
  return target.startsWith('/') ? URL.parse(`http://herald.invalid${target}`) : URL.parse(target);
}

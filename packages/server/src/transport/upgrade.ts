import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode, ErrorCode, SUBPROTOCOL, WS_PATH } from '@herald/protocol';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { TokenVerifier, VerifiedToken } from '../auth/token-verifier.js';
import { rawErrorResponse } from '../error-response.js';
import type { Metrics } from '../metrics.js';
import { fail, ok, type Result } from '../result.js';
import type { Corkable } from './connection.js';
import { handshakeToken } from './handshake-token.js';
import { HandshakeQueue } from './handshake-queue.js';
import { sinceFromQuery } from './since.js';

export interface UpgradeOptions {
  verifyToken: TokenVerifier;
  metrics: Metrics;
  logger: Logger;
  allowedOrigins: string[];
  maxMessageBytes: number;
  maxHandshakes: number;
  maxHandshakeQueue: number;
  /** How long an upgrade may wait in the handshake queue. */
  headersTimeoutMs: number;
  /** Takes every upgrade that became an authenticated WebSocket. */
  accept(upgrade: AuthenticatedUpgrade): void;
}

/** What a successful upgrade yields: the open socket, its verified token, and where its replay starts. */
export interface AuthenticatedUpgrade {
  ws: WebSocket;
  /** The socket the WebSocket runs on, whose writes a Connection holds together within a turn. */
  socket: Corkable;
  token: VerifiedToken;
  /** Undefined: start at the user's head. */
  since: number | undefined;
  address: string;
}

/** Why an upgrade's request was refused after the WebSocket opened, so that a browser can read the close code. */
interface HandshakeRefusal {
  code: number;
  reason: string;
  counted: 'bad_request' | 'unauthorized';
  /** For the debug log; never the token. */
  detail: string;
}

interface PendingUpgrade {
  request: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  url: URL;
}

function destroySocket(this: Duplex): void {
  this.destroy();
}

/**
 * The door of the WebSocket endpoint: checks each upgrade (target, path, origin, draining, the handshake budget),
 * verifies its token and `since`, completes the WebSocket handshake and hands an authenticated socket on. Every
 * refusal is answered here: as an HTTP status before the handshake, or as a close code after it. Tokens are read
 * here and never logged.
 */
export class UpgradeGate {
  private readonly wss: WebSocketServer;
  private readonly queue: HandshakeQueue<PendingUpgrade>;
  private stopped = false;

  constructor(private readonly options: UpgradeOptions) {
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
    this.queue = new HandshakeQueue<PendingUpgrade>({
      maxInFlight: options.maxHandshakes,
      maxWaiting: options.maxHandshakeQueue,
      maxWaitMs: options.headersTimeoutMs,
      run: (pending) => this.handshake(pending),
      gone: (pending) => pending.socket.destroyed,
      expire: (pending) => this.reject(pending.socket, 'handshakes'),
      waitingChanged: (count) => options.metrics.handshakesQueued.set(count),
    });
  }

  /**
   * The `upgrade` listener for an http.Server. It runs inside Node's parser callback, where an exception ends the
   * process: every outside value is checked before use, and anything missed is answered 400 instead of thrown.
   */
  readonly handleUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', destroySocket);
    try {
      const url = upgradeTarget(request.url);
      if (url === null) return this.refuseMalformed(socket, 'Malformed request target');
      this.route({ request, socket, head, url });
    } catch (error) {
      this.options.logger.warn({ err: error }, 'upgrade request failed');
      if (!socket.destroyed) this.refuseMalformed(socket, 'Malformed upgrade request');
    }
  };

  /** Refuses every upgrade from now on (503), and those waiting for a slot. */
  stop(): void {
    this.stopped = true;
    for (const pending of this.queue.takeWaiting()) this.reject(pending.socket, 'draining');
  }

  /** After stop and once the connections are gone. */
  close(): void {
    this.wss.close();
  }

  private route(pending: PendingUpgrade): void {
    const { request, socket, url } = pending;
    if (url.pathname !== WS_PATH) return this.reject(socket, 'not_found');
    if (this.stopped) return this.reject(socket, 'draining');
    if (!this.originAllowed(request.headers.origin)) return this.reject(socket, 'origin');
    if (!this.queue.offer(pending)) this.reject(socket, 'handshakes');
  }

  /** One handshake within the budget; never rejects, so its slot is always given back. */
  private async handshake(pending: PendingUpgrade): Promise<void> {
    const { request, socket, head } = pending;
    try {
      const checked = await this.authenticate(pending);
      if (socket.destroyed) return;
      // A drain may have begun while the token was being verified: this one is refused like any other upgrade
      // during a drain, instead of joining after the 1012s went out and being cut off without one.
      if (this.stopped) return this.reject(socket, 'draining');
      this.wss.handleUpgrade(request, socket, head, (ws) => {
        // The socket is the WebSocket's now, and ws destroys it on an error itself: a second listener kept for
        // the connection's whole life would only cost memory.
        socket.off('error', destroySocket);
        if (!checked.ok) return this.refuseOpened(ws, checked.error);
        const address = request.socket.remoteAddress ?? 'unknown';
        this.options.accept({ ws, socket, token: checked.value.token, since: checked.value.since, address });
      });
    } catch (error) {
      // What was written to the socket is unknown; a rejection here would end the process as an unhandled one.
      this.options.logger.error({ err: error }, 'upgrade failed');
      socket.destroy();
    }
  }

  private async authenticate({ request, url }: PendingUpgrade): Promise<Result<{ token: VerifiedToken; since: number | undefined }, HandshakeRefusal>> {
    let token: VerifiedToken;
    try {
      token = await this.options.verifyToken(handshakeToken(request, url));
    } catch (error) {
      return fail({ code: CloseCode.Unauthorized, reason: 'Unauthorized', counted: 'unauthorized', detail: (error as Error).message });
    }
    const since = sinceFromQuery(url.searchParams.getAll('since'));
    if (!since.ok) return fail({ code: CloseCode.PolicyViolation, reason: since.error, counted: 'bad_request', detail: since.error });
    return ok({ token, since: since.value });
  }

  /** A refused request on an open WebSocket, before any user state exists. */
  private refuseOpened(ws: WebSocket, refusal: HandshakeRefusal): void {
    if (refusal.counted === 'unauthorized') {
      this.options.metrics.authFailures.inc();
      this.options.logger.debug({ reason: refusal.detail }, 'websocket refused: unauthorized');
    } else {
      this.options.metrics.refusedConnections.inc({ reason: 'bad_request' });
    }
    // Its client may still send anything until the close completes, and ws reports a protocol error as an
    // 'error' event, which without a listener would end the process.
    ws.on('error', ignoreError);
    ws.close(refusal.code, refusal.reason);
  }

  private originAllowed(origin: string | undefined): boolean {
    const allowed = this.options.allowedOrigins;
    // Browsers always send Origin; a client without one is not a browser page and cannot be cross-site.
    return allowed.length === 0 || origin === undefined || allowed.includes(origin);
  }

  /** An upgrade refused before the handshake, in Herald's error shape, counted under `reason`. */
  private reject(socket: Duplex, reason: keyof typeof REFUSALS): void {
    this.options.metrics.refusedConnections.inc({ reason });
    const [code, message] = REFUSALS[reason];
    socket.end(rawErrorResponse(code, message));
  }

  /** A malformed upgrade, answered in Herald's error shape and counted as `bad_request`. */
  private refuseMalformed(socket: Duplex, message: string, status: 400 | 405 = 400): void {
    this.options.metrics.refusedConnections.inc({ reason: 'bad_request' });
    const code = status === 405 ? ErrorCode.MethodNotAllowed : ErrorCode.BadRequest;
    // RFC 6455 §4.4: a refused handshake names the version the server speaks.
    socket.end(rawErrorResponse(code, message, { 'sec-websocket-version': '13', ...(status === 405 && { allow: 'GET' }) }));
  }
}

/** What an upgrade refused before the handshake is told, by the reason it is counted under. */
const REFUSALS = {
  not_found: [ErrorCode.NotFound, `No WebSocket endpoint at this path; Herald's is ${WS_PATH}`],
  origin: [ErrorCode.Forbidden, 'This Origin is not in HERALD_ALLOWED_ORIGINS'],
  draining: [ErrorCode.Unavailable, 'Herald is shutting down; reconnect'],
  handshakes: [ErrorCode.Unavailable, 'Too many WebSocket handshakes at once; reconnect'],
} as const satisfies Record<string, readonly [ErrorCode, string]>;

/** Nothing is left to clean up on a refused socket, and ws destroys it on the error itself. */
function ignoreError(): void {}

/**
 * The URL of an upgrade's request target, or null when it has none: origin-form is read as a path and query only
 * (`//x:99999/` is a path with an empty first segment, not a host and port), absolute-form (RFC 9112 §3.2.2) must
 * parse whole. `new URL` would throw on either, inside Node's parser callback.
 */
function upgradeTarget(target: string | undefined): URL | null {
  if (target === undefined) return null;
  return target.startsWith('/') ? URL.parse(`http://herald.invalid${target}`) : URL.parse(target);
}

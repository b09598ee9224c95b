import { CloseCode, ErrorCode } from '@herald/protocol';
import type { Logger } from 'pino';
import type { RawData } from 'ws';
import type { TokenVerifier, VerifiedToken } from '../auth/token-verifier.js';
import type { Admission } from '../hub/admission.js';
import type { Hub } from '../hub/hub.js';
import type { Metrics } from '../metrics.js';
import { settleWithin } from '../timing.js';
import { decodeClientFrame } from './client-frame.js';
import { Connection } from './connection.js';
import { encodeError, encodeTokenExpired, encodeTokenRefreshed, PING_FRAME, PONG_FRAME } from './encode.js';
import type { FrameLimit } from './frame-bucket.js';
import { KeepaliveWheel } from './keepalive-wheel.js';
import { attachConnection, sharedListeners } from './socket-listeners.js';
import type { StreamSync } from './stream-sync.js';
import { UpgradeGate, type AuthenticatedUpgrade, type UpgradeOptions } from './upgrade.js';

/** How long a connection closed for its frame rate keeps its socket, unread, for the close frame to arrive. */
const FLOODER_CLOSE_GRACE_MS = 1000;

export interface SocketServerOptions extends Omit<UpgradeOptions, 'accept'> {
  hub: Hub<Connection>;
  admission: Admission<Connection>;
  sync: StreamSync;
  verifyToken: TokenVerifier;
  metrics: Metrics;
  logger: Logger;
  pingIntervalMs: number;
  idleTimeoutMs: number;
  tokenGraceMs: number;
  maxBufferedBytes: number;
  /** Frames a connection may send per second on average, and at once above that, before it is closed with 4030. */
  maxFramesPerSecond: number;
  frameBurst: number;
}

/**
 * The WebSocket side of Herald once a socket is authenticated: makes it a Connection, awaits its admission, opens
 * its stream, dispatches its frames, keeps it alive and its token current, and closes them all on a drain. The
 * upgrade itself (checks, budget, token) is UpgradeGate's.
 */
export class SocketServer {
  private readonly gate: UpgradeGate;
  private readonly wheel: KeepaliveWheel<Connection>;
  private readonly frameLimit: FrameLimit;
  private nextId = 1;
  private readonly listeners = sharedListeners({
    message: (connection, data, isBinary) => this.onMessage(connection, data, isBinary),
    error: (connection, error) => this.options.logger.debug({ err: error, connection: connection.id }, 'websocket error'),
    // ws reports control frames (ping, pong) apart from messages, and answers a ping itself; both count against
    // the same bucket as every other frame.
    control: (connection) => this.onControlFrame(connection),
    close: (connection, code) => this.onClose(connection, code),
  });

  constructor(private readonly options: SocketServerOptions) {
    this.gate = new UpgradeGate({ ...options, accept: (upgrade) => void this.accept(upgrade) });
    this.frameLimit = { perSecond: options.maxFramesPerSecond, burst: options.frameBurst };
    this.wheel = new KeepaliveWheel<Connection>({
      pingIntervalMs: options.pingIntervalMs,
      idleTimeoutMs: options.idleTimeoutMs,
      ping: (connection) => connection.send(PING_FRAME),
      expire: (connection) => {
        options.metrics.drops.inc({ reason: 'idle' });
        options.logger.debug(
          { connection: connection.id, user: connection.userId, idleMs: Date.now() - connection.lastSeenAt },
          'websocket idle: terminated',
        );
        connection.terminate();
      },
      deadline: (connection, now) => this.onTokenDeadline(connection, now),
    });
    this.wheel.start();
  }

  /** The `upgrade` listener for an http.Server. */
  get handleUpgrade(): UpgradeGate['handleUpgrade'] {
    return this.gate.handleUpgrade;
  }

  /** Stops the keepalive wheel: for a start-up that failed before any connection was taken. */
  stop(): void {
    this.gate.stop();
    this.wheel.stop();
    this.gate.close();
  }

  /**
   * Stops taking connections and closes every open one with 1012 so clients reconnect elsewhere; resolves once
   * they are closed (queued frames are flushed before each close frame) or the timeout passed.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.gate.stop();
    this.wheel.stop();
    const closing = [...this.options.hub.all()].map(
      (connection) =>
        new Promise<void>((resolve) => {
          if (connection.ws.readyState === connection.ws.CLOSED) return resolve();
          connection.ws.once('close', () => resolve());
          connection.close(CloseCode.ServiceRestart, 'Server restarting, reconnect');
        }),
    );
    await settleWithin(Promise.all(closing), timeoutMs);
    for (const connection of this.options.hub.all()) connection.terminate();
    this.gate.close();
  }

  /** Listens to the socket first, so that a resume sent at once is kept, then admits it and opens its stream. */
  private async accept({ ws, socket, token, since, address }: AuthenticatedUpgrade): Promise<void> {
    const { metrics, admission, sync } = this.options;
    const connection = new Connection(this.nextId++, token.userId, address, ws, socket, this.options.maxBufferedBytes, metrics, Date.now());
    connection.deadlineAt = expiryMs(token);
    attachConnection(ws, connection);
    // Who and from where, never the token: it stays in the upgrade (see UpgradeGate).
    this.options.logger.debug({ connection: connection.id, user: token.userId, address, since }, 'websocket opened');
    ws.on('message', this.listeners.message);
    ws.on('ping', this.listeners.control);
    ws.on('pong', this.listeners.control);
    ws.on('error', this.listeners.error);
    ws.on('close', this.listeners.close);
    this.wheel.add(connection);
    const admitted = await admission.admit(connection);
    if (connection.closed) return;
    if (!admitted.ok) return connection.close(admitted.error.code, admitted.error.reason);
    await sync.open(connection, since);
  }

  private onClose(connection: Connection, code: number): void {
    this.options.logger.debug({ connection: connection.id, user: connection.userId, code }, 'websocket closed');
    connection.markClosed();
    this.wheel.remove(connection);
    this.options.hub.remove(connection);
  }

  private onMessage(connection: Connection, data: RawData, isBinary: boolean): void {
    // What ws still parses after a close (the rest of the chunk in hand; every frame up to the client's answer
    // after a close for another reason) is not handled.
    if (connection.closed) return;
    const now = Date.now();
    connection.lastSeenAt = now;
    this.options.metrics.messagesIn.inc();
    if (!this.admitFrame(connection, now)) return;
    if (isBinary) {
      connection.send(encodeError(ErrorCode.InvalidFrame, 'Binary frames are not supported; send JSON text'));
      return;
    }
    const decoded = decodeClientFrame(data.toString());
    if (!decoded.ok) {
      connection.send(encodeError(decoded.error.code, decoded.error.message));
      return;
    }
    const frame = decoded.value;
    switch (frame.type) {
      case 'ping':
        connection.send(PONG_FRAME);
        return;
      case 'pong':
        return;
      case 'resume':
        void this.options.sync.resume(connection, frame.payload.since);
        return;
      case 'refresh':
        void this.refresh(connection, frame.payload.token);
        return;
    }
  }

  private onControlFrame(connection: Connection): void {
    if (connection.closed) return;
    const now = Date.now();
    connection.lastSeenAt = now;
    this.admitFrame(connection, now);
  }

  /**
   * Takes one frame from the connection's bucket, whatever the frame is (a text frame of any content, binary, or a
   * control frame), before anything is decoded or answered; closes the connection with 4030 past the limit.
   */
  private admitFrame(connection: Connection, now: number): boolean {
    if (connection.takeFrame(now, this.frameLimit)) return true;
    this.options.metrics.drops.inc({ reason: 'frame_rate' });
    connection.close(CloseCode.TooManyFrames, 'Too many frames');
    // ws would read on until the client answers the close, parsing a flood already in flight (libuv reads up to
    // 2 MB per turn of the event loop from one socket): reading stops instead. The client's answer then stays
    // unread too, so the socket is dropped once the close frame had time to reach the client.
    connection.ws.pause();
    setTimeout(() => connection.terminate(), FLOODER_CLOSE_GRACE_MS).unref();
    return false;
  }

  /**
   * A token's expiry is a deadline on the keepalive wheel, not a timer per connection: first the client is told
   * and given the grace period to send a `refresh`, then the connection is closed with 4002.
   */
  private onTokenDeadline(connection: Connection, now: number): void {
    if (!connection.tokenExpired) {
      connection.startGrace(now + this.options.tokenGraceMs);
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
      connection.send(encodeError(ErrorCode.Unauthorized, `Refresh refused: ${(error as Error).message}`));
      return;
    }
    if (connection.closed) return;
    if (verified.userId !== connection.userId) {
      this.options.metrics.authFailures.inc();
      connection.close(CloseCode.Unauthorized, 'Refresh token is for another user');
      return;
    }
    connection.extendTo(expiryMs(verified));
    this.wheel.reschedule(connection);
    connection.send(encodeTokenRefreshed(verified.expiresAt));
  }
}

function expiryMs(token: VerifiedToken): number {
  return token.expiresAt === undefined ? Number.POSITIVE_INFINITY : token.expiresAt * 1000;
}

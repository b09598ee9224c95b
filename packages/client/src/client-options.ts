import type { ReconnectOptions } from './backoff.js';
import type { Clock } from './clock.js';
import type { TokenSource } from './token-keeper.js';
import type { WebSocketConstructor } from './web-socket.js';

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

export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
export const DEFAULT_LIVENESS_GRACE_MS = 5000;
export const DEFAULT_RESUME_RETRY_MS = 5000;

import { handshakeProtocols, WS_PATH } from '@herald/protocol';

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

/** WebSocket readyState values. */
export const ReadyState = { Connecting: 0, Open: 1, Closing: 2, Closed: 3 } as const;

/**
 * Close codes the client meets that Herald never sends, hence not among the protocol's CloseCode: its own two and
 * the one a WebSocket reports by itself.
 */
export const LocalCloseCode = {
  /** The application called close() (RFC 6455, 7.4.1). */
  Normal: 1000,
  /** What a WebSocket reports for a connection that ended without a close frame (RFC 6455, 7.1.5). */
  Abnormal: 1006,
  /** Our own code for closing a connection that went silent; never sent by Herald. */
  ClientTimeout: 4000,
} as const;

/** Herald's WebSocket URL for its base URL (https gives wss), resuming after `since` when there is one. */
export function socketUrl(baseUrl: string, since: number | undefined): string {
  const url = new URL(WS_PATH, baseUrl);
  url.protocol = url.protocol === 'https:' || url.protocol === 'wss:' ? 'wss:' : 'ws:';
  if (since !== undefined) url.searchParams.set('since', String(since));
  return url.toString();
}

export interface SocketListener {
  message(ws: WebSocketLike, data: unknown): void;
  /** Called once the socket ended, or its handshake failed; possibly a second time for the same socket. */
  close(ws: WebSocketLike, code: number): void;
}

/** Opens a socket that offers `token` as a subprotocol (never in the URL) and reports to `listener`. */
export function openSocket(WebSocket: WebSocketConstructor, url: string, token: string, listener: SocketListener): WebSocketLike {
  const ws = new WebSocket(url, handshakeProtocols(token));
  ws.onmessage = (event) => listener.message(ws, event.data);
  ws.onclose = (event) => listener.close(ws, event.code);
  // A failed handshake: browsers, ws and Node 24 follow the error with a close event, but Node 22's global
  // WebSocket reports only the error and stays CONNECTING, so the failure is reported from whichever comes first
  // (the listener ignores the second). An error on an open socket is always followed by its close, with its code.
  ws.onerror = () => {
    if (ws.readyState === ReadyState.Connecting || ws.readyState === ReadyState.Closed) listener.close(ws, LocalCloseCode.Abnormal);
  };
  return ws;
}

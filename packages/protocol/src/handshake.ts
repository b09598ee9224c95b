/** Where browsers open their WebSocket. */
export const WS_PATH = '/ws/notifications';

/**
 * The WebSocket subprotocol Herald speaks. A client offers it together with `herald.token.<jwt>` so that the
 * token travels in the Sec-WebSocket-Protocol header instead of the URL, where proxies and browser history keep
 * it. Herald answers with this name only, never echoing the token.
 */
export const SUBPROTOCOL = 'herald.v1';

/** Prefix of the subprotocol entry that carries the token (JWTs use only characters valid there). */
export const TOKEN_SUBPROTOCOL_PREFIX = 'herald.token.';

/** The subprotocols a client offers for `token`. */
export function handshakeProtocols(token: string): string[] {
  return [SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${token}`];
}

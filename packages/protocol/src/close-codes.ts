/**
 * Every close code Herald sends, with whether a client should reconnect. 4001 comes from the seed protocol;
 * the other 40xx codes are Herald's own. 1009 and 1012 are the standard codes for an oversized frame and a
 * server restart.
 */
export const CloseCode = {
  /** The frame was larger than HERALD_MAX_MESSAGE_BYTES. */
  MessageTooBig: 1009,
  /** The server is shutting down: reconnect (to this or another node) after a short backoff. */
  ServiceRestart: 1012,
  /** Missing, malformed, expired or wrongly signed token: do not reconnect until a new token is at hand. */
  Unauthorized: 4001,
  /** The token expired and no `refresh` came within the grace period: reconnect with a new token. */
  TokenExpired: 4002,
  /** The client read too slowly and its unsent data passed the bound: reconnect and resume. */
  SlowConsumer: 4008,
  /** Too many connections for this user or from this address: reconnect later, with backoff. */
  TooManyConnections: 4029,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Whether a client should try again after the server closed with this code (4002 with a new token). */
export function shouldReconnect(code: number): boolean {
  return code !== CloseCode.Unauthorized;
}

/** Whether the close means the token is no longer good, so a new one must be fetched before reconnecting. */
export function needsNewToken(code: number): boolean {
  return code === CloseCode.Unauthorized || code === CloseCode.TokenExpired;
}

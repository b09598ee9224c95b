/**
 * Every close code Herald sends, with whether a client should reconnect. 4001 comes from the seed protocol;
 * the other 40xx codes are Herald's own. 1008, 1009, 1011 and 1012 are the standard codes (RFC 6455, 7.4.1)
 * for a refused request, an oversized frame, a failure on the server's side and a server restart.
 */
export const CloseCode = {
  /**
   * The handshake request was malformed (`since` given twice, or not a non-negative integer): the same request
   * fails again, so do not reconnect until it is fixed.
   */
  PolicyViolation: 1008,
  /** The frame was larger than HERALD_MAX_MESSAGE_BYTES. */
  MessageTooBig: 1009,
  /**
   * The server could not serve the stream right now (the database could not be read while the connection caught
   * up, or an unexpected failure): reconnect with backoff and resume from the last seq seen.
   */
  InternalError: 1011,
  /** The server is shutting down: reconnect (to this or another node) after a short backoff. */
  ServiceRestart: 1012,
  /** Missing, malformed, expired or wrongly signed token: do not reconnect until a new token is at hand. */
  Unauthorized: 4001,
  /** The token expired and no `refresh` came within the grace period: reconnect with a new token. */
  TokenExpired: 4002,
  /**
   * Everything Herald stored for the user was erased (DELETE /users/{user_id}): the user's stream starts again
   * from seq 1, so a client that reconnects drops what it holds and connects without `since`.
   */
  UserErased: 4004,
  /** The client read too slowly and its unsent data passed the bound: reconnect and resume. */
  SlowConsumer: 4008,
  /** Too many connections for this user or from this address: reconnect later, with backoff. */
  TooManyConnections: 4029,
  /**
   * The client sent frames faster than HERALD_MAX_FRAMES_PER_SECOND (past HERALD_FRAME_BURST): reconnect later,
   * with backoff, and resume.
   */
  TooManyFrames: 4030,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * Whether a client should try again after the server closed with this code. No after 4001 (the same token is
 * refused again) and 1008 (the same request is refused again); 4002 only with a new token (see needsNewToken).
 * Codes Herald does not send (1000, 1006 for a dropped connection, ...) are worth a retry with backoff.
 */
export function shouldReconnect(code: number): boolean {
  return code !== CloseCode.Unauthorized && code !== CloseCode.PolicyViolation;
}

/**
 * Whether the close means the token is no longer good, so a new one must be fetched before reconnecting:
 * 4001 and 4002. Every other code, 1008 and 1011 included, says nothing about the token.
 */
export function needsNewToken(code: number): boolean {
  return code === CloseCode.Unauthorized || code === CloseCode.TokenExpired;
}

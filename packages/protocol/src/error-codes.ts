/** Codes carried by `error` frames and by REST error bodies (`{"error": code, "message": ...}`). */
export const ErrorCode = {
  /** A client frame was not JSON. */
  InvalidJson: 'invalid_json',
  /** A client frame was JSON but not a frame Herald knows the shape of. */
  InvalidFrame: 'invalid_frame',
  /** A client frame's `type` is not one a client may send. */
  UnknownType: 'unknown_type',
  /** The request names a field, parameter or value Herald refuses; the message says which. */
  BadRequest: 'bad_request',
  /** No valid token or API key. */
  Unauthorized: 'unauthorized',
  NotFound: 'not_found',
  /** The body or frame is larger than Herald's bound for it. */
  PayloadTooLarge: 'payload_too_large',
  /** A service Herald needs (the database) cannot be reached right now: the same request may succeed later. */
  Unavailable: 'unavailable',
  /** Herald failed in a way it did not foresee; the log has the cause. */
  Internal: 'internal',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

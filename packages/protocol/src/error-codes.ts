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
  /** The request's origin may not use this endpoint (a WebSocket upgrade from an Origin not allowed). */
  Forbidden: 'forbidden',
  /** No route at this path. */
  NotFound: 'not_found',
  /** The request conflicts with what is stored (another action was taken on the notification already). */
  Conflict: 'conflict',
  /** The path exists but not with this method; the `Allow` header lists those it has. */
  MethodNotAllowed: 'method_not_allowed',
  /** The client took longer than HERALD_HEADERS_TIMEOUT_MS to send its request. */
  RequestTimeout: 'request_timeout',
  /** The body or frame is larger than Herald's bound for it. */
  PayloadTooLarge: 'payload_too_large',
  /** The body is not JSON (its Content-Type is not application/json). */
  UnsupportedMediaType: 'unsupported_media_type',
  /** A plain request to the WebSocket endpoint: it answers only an upgrade (`Upgrade: websocket`). */
  UpgradeRequired: 'upgrade_required',
  /** The request's headers are larger than Node's bound for them (16 KiB). */
  HeadersTooLarge: 'headers_too_large',
  /** A service Herald needs (the database) cannot be reached right now: the same request may succeed later. */
  Unavailable: 'unavailable',
  /** Herald failed in a way it did not foresee; the log has the cause. */
  Internal: 'internal',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

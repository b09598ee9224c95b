/** Codes carried by `error` frames and by REST error bodies (`{"error": code, "message": ...}`). */
export const ErrorCode = {
  InvalidJson: 'invalid_json',
  InvalidFrame: 'invalid_frame',
  UnknownType: 'unknown_type',
  BadRequest: 'bad_request',
  Unauthorized: 'unauthorized',
  NotFound: 'not_found',
  PayloadTooLarge: 'payload_too_large',
  Unavailable: 'unavailable',
  Internal: 'internal',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

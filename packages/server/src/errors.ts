import { CloseCode, ErrorCode } from '@herald/protocol';

const STATUS: Record<ErrorCode, number> = {
  [ErrorCode.InvalidJson]: 400,
  [ErrorCode.InvalidFrame]: 400,
  [ErrorCode.UnknownType]: 400,
  [ErrorCode.BadRequest]: 400,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.Unavailable]: 503,
  [ErrorCode.Internal]: 500,
};

/** The one error type of Herald: a stable code, a message safe to show the caller, and the cause for the log. */
export class HeraldError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HeraldError';
    this.code = code;
  }

  get status(): number {
    return STATUS[this.code];
  }

  /** The close code a WebSocket gets when this error ends it. */
  get closeCode(): number {
    return this.code === ErrorCode.Unauthorized ? CloseCode.Unauthorized : 1011;
  }
}

export function unauthorized(message = 'Unauthorized', cause?: unknown): HeraldError {
  return new HeraldError(ErrorCode.Unauthorized, message, { cause });
}

export function badRequest(message: string): HeraldError {
  return new HeraldError(ErrorCode.BadRequest, message);
}

/**
 * Herald could not start: a setting is wrong or a service it needs did not answer. The message names the
 * variable (e.g. HERALD_REDIS_URL) and is printed as one line; nothing that was opened stays open.
 */
export class StartupError extends Error {
  override name = 'StartupError';
}

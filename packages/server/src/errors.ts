import { CloseCode, ErrorCode } from '@herald/protocol';

/** What one ErrorCode means at each edge: the REST answer, the WebSocket close, and what the caller may do next. */
export interface ErrorPolicy {
  /** The HTTP status of a REST answer with this code. */
  readonly status: number;
  /** The close code a WebSocket gets when an error with this code ends it. */
  readonly closeCode: CloseCode;
  /** Whether the same request (or reconnect) may succeed later unchanged, so a caller may retry it with backoff. */
  readonly retryable: boolean;
}

/**
 * The one table from ErrorCode to status, close code and retry. Codes that are the caller's fault are not
 * retryable: the same request fails the same way, so a WebSocket they end gets 1008, which a client does not
 * reconnect after (1009 for a frame too large is what `ws` itself sends; the connection was fine, the frame was
 * not). Internal is retryable: it is a failure Herald did not classify, most often a transient one (a driver
 * error whose text no outage test matches), a retried publish with an `id` is stored once, and a resumed stream
 * loses nothing; the backoff bounds what a lasting defect costs. Its close code 1011 tells clients the same.
 */
export const ERROR_POLICY: { readonly [Code in ErrorCode]: ErrorPolicy } = {
  [ErrorCode.InvalidJson]: { status: 400, closeCode: CloseCode.PolicyViolation, retryable: false },
  [ErrorCode.InvalidFrame]: { status: 400, closeCode: CloseCode.PolicyViolation, retryable: false },
  [ErrorCode.UnknownType]: { status: 400, closeCode: CloseCode.PolicyViolation, retryable: false },
  [ErrorCode.BadRequest]: { status: 400, closeCode: CloseCode.PolicyViolation, retryable: false },
  [ErrorCode.Unauthorized]: { status: 401, closeCode: CloseCode.Unauthorized, retryable: false },
  [ErrorCode.Forbidden]: { status: 403, closeCode: CloseCode.PolicyViolation, retryable: false },
  [ErrorCode.NotFound]: { status: 404, closeCode: CloseCode.PolicyViolation, retryable: false },
  [ErrorCode.Conflict]: { status: 409, closeCode: CloseCode.PolicyViolation, retryable: false },
  [ErrorCode.MethodNotAllowed]: { status: 405, closeCode: CloseCode.PolicyViolation, retryable: false },
  // Sent as slowly again, the same request times out again; these HTTP-only codes never end a WebSocket.
  [ErrorCode.RequestTimeout]: { status: 408, closeCode: CloseCode.PolicyViolation, retryable: false },
  [ErrorCode.PayloadTooLarge]: { status: 413, closeCode: CloseCode.MessageTooBig, retryable: false },
  [ErrorCode.UnsupportedMediaType]: { status: 415, closeCode: CloseCode.PolicyViolation, retryable: false },
  [ErrorCode.UpgradeRequired]: { status: 426, closeCode: CloseCode.PolicyViolation, retryable: false },
  [ErrorCode.HeadersTooLarge]: { status: 431, closeCode: CloseCode.PolicyViolation, retryable: false },
  [ErrorCode.Unavailable]: { status: 503, closeCode: CloseCode.InternalError, retryable: true },
  [ErrorCode.Internal]: { status: 500, closeCode: CloseCode.InternalError, retryable: true },
};

/** The one error type of Herald: a stable code, a message safe to show the caller, and the cause for the log. */
export class HeraldError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HeraldError';
    this.code = code;
  }

  /** The HTTP status of a REST answer with this error (its close code and retry advice: ERROR_POLICY, closeFor). */
  get status(): number {
    return ERROR_POLICY[this.code].status;
  }
}

export function unauthorized(message = 'Unauthorized', cause?: unknown): HeraldError {
  return new HeraldError(ErrorCode.Unauthorized, message, { cause });
}

export function badRequest(message: string): HeraldError {
  return new HeraldError(ErrorCode.BadRequest, message);
}

/** The database cannot be reached right now; `cause` is the driver's error, for the log only. */
export function storeUnavailable(cause: unknown): HeraldError {
  return new HeraldError(ErrorCode.Unavailable, 'The database is unavailable; retry later', { cause });
}

/** RFC 6455 (5.5): a close frame's payload is at most 125 bytes, two of them the code. */
const MAX_CLOSE_REASON_BYTES = 123;

/** Reasons that say what to do; a message of a refused request is shown as it is (it is safe to show). */
const CLOSE_REASONS: Partial<Record<ErrorCode, string>> = {
  [ErrorCode.Unavailable]: 'Temporarily unavailable, reconnect',
  // The verifier's message (expired, bad signature, ...) goes to the debug log only, as on the upgrade.
  [ErrorCode.Unauthorized]: 'Unauthorized',
  [ErrorCode.Internal]: 'Internal error, reconnect',
};

/**
 * How a WebSocket is closed when `error` ends it: the table's close code and a reason within 123 bytes. An error
 * that is not a HeraldError is Internal.
 */
export function closeFor(error: unknown): { code: number; reason: string } {
  // A store outage arrives here as an Unavailable HeraldError already: the composition root guards every store.
  const code = error instanceof HeraldError ? error.code : ErrorCode.Internal;
  const shown = error instanceof HeraldError ? error.message : '';
  return { code: ERROR_POLICY[code].closeCode, reason: clipUtf8(CLOSE_REASONS[code] ?? shown, MAX_CLOSE_REASON_BYTES) };
}

/** `text` cut to at most `maxBytes` of UTF-8, never inside a character. */
function clipUtf8(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    bytes += Buffer.byteLength(char, 'utf8');
    if (bytes > maxBytes) break;
    end += char.length;
  }
  return text.slice(0, end);
}

/**
 * Herald could not start: a setting is wrong or a service it needs did not answer. The message names the
 * variable (e.g. HERALD_REDIS_URL) and is printed as one line; nothing that was opened stays open.
 */
export class StartupError extends Error {
  override name = 'StartupError';
}

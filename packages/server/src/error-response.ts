import { STATUS_CODES } from 'node:http';
import { ErrorCode } from '@herald/protocol';
import { ERROR_POLICY } from './errors.js';

/**
 * How long a client is told to wait before it retries a 503 (the database is unreachable, the node is draining, or
 * the handshake budget is full). A database outage or a restart rarely clears within a second; a balancer has
 * routed a draining node's clients elsewhere well within this.
 */
export const RETRY_AFTER_SECONDS = 5;

/** The error codes of the statuses Fastify and Node's parser answer by themselves; any other 4xx is bad_request. */
const CODE_OF_STATUS: Readonly<Record<number, ErrorCode>> = {
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  405: ErrorCode.MethodNotAllowed,
  408: ErrorCode.RequestTimeout,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.UnsupportedMediaType,
  426: ErrorCode.UpgradeRequired,
  431: ErrorCode.HeadersTooLarge,
  503: ErrorCode.Unavailable,
};

/** The ErrorCode of a client error (4xx) that Herald did not raise itself. */
export function codeForClientStatus(status: number): ErrorCode {
  return CODE_OF_STATUS[status] ?? ErrorCode.BadRequest;
}

/** Herald's one error body. */
export function errorBody(code: ErrorCode, message: string): { error: ErrorCode; message: string } {
  return { error: code, message };
}

/**
 * The headers an error's status calls for: a 401 names its scheme (RFC 9110 §11.6.1, RFC 6750 §3: `invalid_token`
 * once a token was sent), a 503 says when to retry (RFC 9110 §10.2.3), a 426 what to upgrade to (RFC 9110 §15.5.22).
 * A 405's `Allow` depends on the route and is set where it is known.
 */
export function errorHeaders(code: ErrorCode, request: { authorization?: string | undefined }): Record<string, string> {
  switch (ERROR_POLICY[code].status) {
    case 401:
      return { 'www-authenticate': request.authorization ? 'Bearer realm="herald", error="invalid_token"' : 'Bearer realm="herald"' };
    case 503:
      return { 'retry-after': String(RETRY_AFTER_SECONDS) };
    case 426:
      return { upgrade: 'websocket', connection: 'Upgrade' };
    default:
      return {};
  }
}

/**
 * A whole HTTP/1.1 error response for a socket no reply object owns (an upgrade refused before the handshake, a
 * request Node's parser refused, a CONNECT): Herald's body, the status's headers and `extra`, then the connection
 * ends.
 */
export function rawErrorResponse(code: ErrorCode, message: string, extra: Record<string, string> = {}): string {
  const status = ERROR_POLICY[code].status;
  const body = JSON.stringify(errorBody(code, message));
  const headers = {
    'content-type': 'application/json; charset=utf-8',
    ...errorHeaders(code, {}),
    ...extra,
    // Nothing more is read on this socket.
    connection: 'close',
    'content-length': String(Buffer.byteLength(body)),
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${lines.join('')}\r\n${body}`;
}

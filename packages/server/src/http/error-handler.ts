import { ErrorCode } from '@herald/protocol';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_POLICY, HeraldError, storeUnavailable } from '../errors.js';
import { describeSchemaError } from '../schema-errors.js';
import { isStoreUnavailable } from '../store/unavailable.js';
import { codeForClientStatus, errorBody, errorHeaders } from '../error-response.js';

/** The longest part of a request header quoted back in a message. */
const QUOTED_HEADER_CHARS = 100;

/** Maps every failure to `{"error": code, "message": ...}` with its status; logs only what is Herald's fault. */
export function handleError(error: FastifyError | HeraldError, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof HeraldError) return answerHeraldError(error, request, reply);
  if (error.validation) {
    const message = describeSchemaError(error.validationContext ?? 'body', error.validation);
    return sendError(request, reply, ErrorCode.BadRequest, message);
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code = codeForClientStatus(status);
    return sendError(request, reply, code, CLIENT_MESSAGES[code]?.(request) ?? error.message);
  }
  // The path for a store that was not wrapped with guardOutages: its outage reaches here as the driver's error.
  if (isStoreUnavailable(error)) return answerHeraldError(storeUnavailable(error), request, reply);
  request.log.error({ err: error }, 'request failed');
  sendError(request, reply, ErrorCode.Internal, 'Internal error');
}

/** Messages that say what to send instead, for the client errors Fastify raises with messages of its own. */
const CLIENT_MESSAGES: Partial<Record<ErrorCode, (request: FastifyRequest) => string>> = {
  [ErrorCode.PayloadTooLarge]: () => 'Request body is larger than HERALD_MAX_BODY_BYTES',
  [ErrorCode.UnsupportedMediaType]: (request) =>
    `Content-Type ${JSON.stringify(String(request.headers['content-type']).slice(0, QUOTED_HEADER_CHARS))} is not supported; send JSON as application/json`,
};

/**
 * A HeraldError is answered with its code's status and its message. An outage (503) is not Herald's fault and is
 * logged at warn with the driver's error; any other 5xx is logged at error; a refused request is not logged.
 */
function answerHeraldError(error: HeraldError, request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === ErrorCode.Unavailable) request.log.warn({ err: error.cause ?? error }, 'database unavailable');
  else if (error.status >= 500) request.log.error({ err: error.cause ?? error }, error.message);
  sendError(request, reply, error.code, error.message);
}

/** Herald's error body with its code's status and the headers that status calls for. */
export function sendError(request: FastifyRequest, reply: FastifyReply, code: ErrorCode, message: string): void {
  void reply
    .code(ERROR_POLICY[code].status)
    .headers(errorHeaders(code, request.headers))
    .send(errorBody(code, message));
}

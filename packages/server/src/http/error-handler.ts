import { ErrorCode } from '@herald/protocol';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HeraldError, storeUnavailable } from '../errors.js';
import { describeSchemaError } from '../schema-errors.js';
import { isStoreUnavailable } from '../store/unavailable.js';

/** Maps every failure to `{"error": code, "message": ...}` with its status; logs only what is Herald's fault. */
export function handleError(error: FastifyError | HeraldError, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof HeraldError) return answerHeraldError(error, request, reply);
  if (error.validation) {
    const message = describeSchemaError(error.validationContext ?? 'body', error.validation);
    void reply.code(400).send({ error: ErrorCode.BadRequest, message });
    return;
  }
  const status = error.statusCode ?? 500;
  if (status === 413) {
    void reply.code(413).send({ error: ErrorCode.PayloadTooLarge, message: 'Request body is larger than HERALD_MAX_BODY_BYTES' });
    return;
  }
  if (status >= 400 && status < 500) {
    void reply.code(status).send({ error: ErrorCode.BadRequest, message: error.message });
    return;
  }
  // The path for a store that was not wrapped with guardOutages: its outage reaches here as the driver's error.
  if (isStoreUnavailable(error)) return answerHeraldError(storeUnavailable(error), request, reply);
  request.log.error({ err: error }, 'request failed');
  void reply.code(500).send({ error: ErrorCode.Internal, message: 'Internal error' });
}

/**
 * A HeraldError is answered with its code's status and its message. An outage (503) is not Herald's fault and is
 * logged at warn with the driver's error; any other 5xx is logged at error; a refused request is not logged.
 */
function answerHeraldError(error: HeraldError, request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === ErrorCode.Unavailable) request.log.warn({ err: error.cause ?? error }, 'database unavailable');
  else if (error.status >= 500) request.log.error({ err: error.cause ?? error }, error.message);
  void reply.code(error.status).send({ error: error.code, message: error.message });
}

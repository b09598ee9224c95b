import { ErrorCode } from '@herald/protocol';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HeraldError } from '../errors.js';
import { describeSchemaError } from '../schema-errors.js';
import { isStoreUnavailable } from '../store/unavailable.js';

/** Maps every failure to `{"error": code, "message": ...}` with its status; logs only what is Herald's fault. */
export function handleError(error: FastifyError | HeraldError, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof HeraldError) {
    if (error.status >= 500) request.log.error({ err: error.cause ?? error }, error.message);
    void reply.code(error.status).send({ error: error.code, message: error.message });
    return;
  }
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
  if (isStoreUnavailable(error)) {
    request.log.warn({ err: error }, 'database unavailable');
    void reply.code(503).send({ error: ErrorCode.Unavailable, message: 'The database is unavailable; retry later' });
    return;
  }
  request.log.error({ err: error }, 'request failed');
  void reply.code(500).send({ error: ErrorCode.Internal, message: 'Internal error' });
}

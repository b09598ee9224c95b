import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCode } from '@herald/protocol';
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.js';
import { rawErrorResponse } from '../error-response.js';

/**
 * Counts the requests that never reach a route: those Node's parser refuses (answered by answerClientError, 400,
 * 408 or 431, and closed) and CONNECT, which Node would drop without a word. Herald is no proxy: a CONNECT gets 405.
 */
export function countClientErrors(server: Server, metrics: Metrics): void {
  server.on('clientError', (error: NodeJS.ErrnoException) => {
    // A client that reset its connection sent nothing malformed; fastify ignores it too.
    if (error.code === 'ECONNRESET') return;
    metrics.httpClientErrors.inc({ code: error.code ?? 'unknown' });
  });
  server.on('connect', (_request, socket: Duplex) => {
    metrics.httpClientErrors.inc({ code: 'CONNECT' });
    // Node's own listeners left the socket with the request: without one, a reset would end the process.
    socket.on('error', () => socket.destroy());
    socket.end(rawErrorResponse(ErrorCode.MethodNotAllowed, 'Herald is not a proxy: CONNECT is not supported'));
  });
}

/**
 * Fastify's `clientErrorHandler`: a request Node's parser refused is answered in Herald's error shape, then its
 * connection is dropped (the parser's state is lost). Logged at trace only, as Fastify does: a malformed request
 * is the client's, and its bytes (`rawPacket`) are redacted by the logger.
 */
export function answerClientError(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  this.log.trace({ err: error }, 'client error');
  if (socket.writable) socket.write(parserRefusal(error.code));
  socket.destroy(error);
}

function parserRefusal(errorCode: string | undefined): string {
  switch (errorCode) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return rawErrorResponse(ErrorCode.RequestTimeout, 'The request was not received in time (its headers within HERALD_HEADERS_TIMEOUT_MS)');
    case 'HPE_HEADER_OVERFLOW':
      return rawErrorResponse(ErrorCode.HeadersTooLarge, "The request line and headers are larger than Node's limit (16 KiB unless --max-http-header-size)");
    default:
      return rawErrorResponse(ErrorCode.BadRequest, `Malformed HTTP request (${errorCode ?? 'unknown'})`);
  }
}

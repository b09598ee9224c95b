import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Metrics } from '../metrics.js';

/**
 * Counts the requests that never reach a route: those Node's parser refuses (fastify's own `clientError` listener
 * answers them, 400, 408 or 431, and closes) and CONNECT, which Node would drop without a word. Herald is no
 * proxy: a CONNECT gets 405.
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
    socket.end('HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
}

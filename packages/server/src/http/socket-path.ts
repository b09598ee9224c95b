import { ErrorCode, WS_PATH } from '@herald/protocol';
import type { FastifyInstance } from 'fastify';
import { sendError } from './error-handler.js';

/**
 * The WebSocket path as a plain request reaches it: an upgrade never gets here (the server's `upgrade` listener
 * takes it), so a GET here is a browser tab or curl that meant to open the socket, and is told how (426).
 */
export function socketPathRoute(app: FastifyInstance): void {
  app.get(WS_PATH, { schema: { hide: true } }, async (request, reply) => {
    sendError(request, reply, ErrorCode.UpgradeRequired, `${WS_PATH} is Herald's WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)`);
    return reply;
  });
}

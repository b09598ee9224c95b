/**
 * The bare `ws` peer: the least a Node.js server can do for Herald's job, and so the practical limit. It makes
 * the same HS256 check on the upgrade, routes by user id through a Map, and serialises each event once for all
 * of that user's sockets. No storage, no keepalive, no limits.
 *
 *   PORT=0 npx tsx bench/peers/bare-ws-server.ts
 */
import { SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX, WS_PATH } from '../../packages/protocol/src/handshake.js';
import { WebSocketServer, type WebSocket } from 'ws';
import { PeerEvents } from './peer-events.js';
import { createPeerHttpServer, listen } from './peer-http.js';
import { verifyUserId } from './peer-token.js';

const users = new Map<string, Set<WebSocket>>();
const events = new PeerEvents();

const server = createPeerHttpServer({
  publish(items) {
    for (const item of items) {
      const sockets = users.get(item.user_id);
      if (!sockets) continue;
      const frame = Buffer.from(JSON.stringify(events.frame(item)));
      for (const ws of sockets) ws.send(frame);
    }
  },
  broadcast(body) {
    const frame = Buffer.from(JSON.stringify({ type: body.type, broadcast: true, payload: body.payload }));
    let count = 0;
    for (const sockets of users.values()) {
      for (const ws of sockets) {
        ws.send(frame);
        count++;
      }
    }
    return count;
  },
});

const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  clientTracking: false,
  maxPayload: 64 * 1024,
  handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
});

server.on('upgrade', (request, socket, head) => {
  socket.on('error', () => socket.destroy());
  const url = new URL(request.url ?? '/', 'http://peer.invalid');
  if (url.pathname !== WS_PATH) return void socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
  void verifyUserId(protocolToken(request.headers['sec-websocket-protocol']) ?? url.searchParams.get('token')).then((userId) => {
    if (socket.destroyed) return;
    if (!userId) return void socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
    wss.handleUpgrade(request, socket, head, (ws) => {
      let sockets = users.get(userId);
      if (!sockets) users.set(userId, (sockets = new Set()));
      sockets.add(ws);
      ws.on('error', () => ws.terminate());
      ws.on('close', () => {
        sockets.delete(ws);
        if (sockets.size === 0) users.delete(userId);
      });
    });
  });
});

function protocolToken(header: string | undefined): string | undefined {
  for (const entry of header?.split(',') ?? []) {
    const protocol = entry.trim();
    if (protocol.startsWith(TOKEN_SUBPROTOCOL_PREFIX)) return protocol.slice(TOKEN_SUBPROTOCOL_PREFIX.length);
  }
  return undefined;
}

process.once('SIGTERM', () => {
  for (const sockets of users.values()) for (const ws of sockets) ws.terminate();
  process.exit(0);
});

listen(server);

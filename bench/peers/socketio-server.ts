/**
 * The Socket.IO 4 peer, as most Node.js applications would write Herald's job: the websocket transport only, the
 * JWT in the handshake's `auth`, one room per user, and the same HTTP publish and broadcast endpoints. Socket.IO
 * encodes an emit to a room once for all of the room's sockets.
 *
 *   PORT=0 npx tsx bench/peers/socketio-server.ts
 */
import { Server } from 'socket.io';
import { PeerEvents } from './peer-events.js';
import { createPeerHttpServer, listen } from './peer-http.js';
import { verifyUserId } from './peer-token.js';

const events = new PeerEvents();

const server = createPeerHttpServer({
  publish(items) {
    for (const item of items) io.to(item.user_id).emit(item.type, events.frame(item));
  },
  broadcast(body) {
    io.emit(body.type, { broadcast: true, payload: body.payload });
    return io.engine.clientsCount;
  },
});

const io = new Server(server, { transports: ['websocket'], serveClient: false, perMessageDeflate: false, httpCompression: false });

io.use((socket, next) => {
  const token = (socket.handshake.auth as { token?: string }).token;
  void verifyUserId(token).then((userId) => {
    if (!userId) return next(new Error('unauthorized'));
    socket.data.userId = userId;
    next();
  });
});

io.on('connection', (socket) => {
  void socket.join(socket.data.userId as string);
});

process.once('SIGTERM', () => {
  io.disconnectSockets(true);
  process.exit(0);
});

listen(server);

import type { RawData, WebSocket } from 'ws';
import type { Connection } from './connection.js';

/** Where a socket's listeners find its Connection: one more field on the WebSocket costs less than a WeakMap entry. */
const CONNECTION = Symbol('connection');
type ConnectedSocket = WebSocket & { [CONNECTION]: Connection };

function connectionOf(ws: WebSocket): Connection {
  return (ws as ConnectedSocket)[CONNECTION];
}

/** Puts the connection on its socket, where the shared listeners find it. */
export function attachConnection(ws: WebSocket, connection: Connection): void {
  (ws as ConnectedSocket)[CONNECTION] = connection;
}

export interface SocketEvents {
  message(connection: Connection, data: RawData, isBinary: boolean): void;
  /** A WebSocket ping or pong control frame (ws answers a ping by itself). */
  control(connection: Connection): void;
  error(connection: Connection, error: Error): void;
  /** The socket closed, with the code of its close frame (1006 when it ended without one). */
  close(connection: Connection, code: number): void;
}

/**
 * One set of listeners for every socket of a server, instead of closures per socket that each capture the
 * connection: ws calls a listener with the socket as `this`, and the socket carries its Connection.
 */
export function sharedListeners(events: SocketEvents) {
  return {
    message(this: WebSocket, data: RawData, isBinary: boolean): void {
      events.message(connectionOf(this), data, isBinary);
    },
    control(this: WebSocket): void {
      events.control(connectionOf(this));
    },
    error(this: WebSocket, error: Error): void {
      events.error(connectionOf(this), error);
    },
    close(this: WebSocket, code: number): void {
      events.close(connectionOf(this), code);
    },
  };
}

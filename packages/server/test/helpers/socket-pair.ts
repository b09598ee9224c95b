import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { Metrics } from '../../src/metrics.js';
import { Connection } from '../../src/transport/connection.js';

/** What a client received on its socket, in order: text frames, and the close once it came. */
export interface ClientSide {
  socket: WebSocket;
  frames: string[];
  /** True for every frame that arrived as binary. */
  binary: boolean[];
  closed: Promise<{ code: number; reason: string }>;
}

/**
 * A real WebSocket server on 127.0.0.1, port 0, that hands out both ends of each connection: the server end for a
 * Connection under test, the client end to watch what reached the wire.
 */
export class SocketPairs {
  #server: WebSocketServer | undefined;
  #open: WebSocket[] = [];

  async start(): Promise<void> {
    this.#server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(this.#server, 'listening');
  }

  async pair(): Promise<{ server: WebSocket; serverSocket: Socket; client: ClientSide }> {
    const server = this.#server!;
    const { port } = server.address() as AddressInfo;
    const accepted = once(server, 'connection') as Promise<[WebSocket, IncomingMessage]>;
    const socket = new WebSocket(`ws://127.0.0.1:${port}`);
    const frames: string[] = [];
    const binary: boolean[] = [];
    socket.on('message', (data, isBinary) => {
      frames.push(String(data));
      binary.push(isBinary);
    });
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      socket.on('close', (code, reason) => resolve({ code, reason: String(reason) }));
    });
    socket.on('error', () => {});
    await once(socket, 'open');
    const [serverSocket, request] = await accepted;
    serverSocket.on('error', () => {});
    this.#open.push(socket, serverSocket);
    return { server: serverSocket, serverSocket: request.socket as Socket, client: { socket, frames, binary, closed } };
  }

  /** A Connection on the server end of a new pair. */
  async connection(
    userId: string,
    options: { id?: number; address?: string; maxBufferedBytes?: number; metrics?: Metrics; now?: number } = {},
  ): Promise<{ connection: Connection; client: ClientSide; serverSocket: Socket }> {
    const { server, serverSocket, client } = await this.pair();
    const connection = new Connection(
      options.id ?? 1,
      userId,
      options.address ?? '10.0.0.1',
      server,
      serverSocket,
      options.maxBufferedBytes ?? 1024 * 1024,
      options.metrics ?? testMetrics(),
      options.now ?? 0,
    );
    return { connection, client, serverSocket };
  }

  async stop(): Promise<void> {
    for (const socket of this.#open) socket.terminate();
    this.#open = [];
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export function testMetrics(): Metrics {
  return new Metrics({ connections: () => 0, users: () => 0 });
}

/** The current value of a counter, for the label set given (the sum of all label sets when none). */
export async function counterValue(
  metric: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> },
  labels: Record<string, string> = {},
): Promise<number> {
  const { values } = await metric.get();
  return values
    .filter((value) => Object.entries(labels).every(([name, label]) => value.labels[name] === label))
    .reduce((sum, value) => sum + value.value, 0);
}

/** Resolves once `frames` has `count` entries (polling), or rejects after `timeoutMs`. */
export async function framesArrived(client: ClientSide, count: number, timeoutMs = 2000): Promise<unknown[]> {
  const deadline = Date.now() + timeoutMs;
  while (client.frames.length < count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} frames, got ${client.frames.length}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return client.frames.map((frame) => JSON.parse(frame));
}

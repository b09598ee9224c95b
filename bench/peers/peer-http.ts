import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { BENCH_API_KEY } from '../herald-process.js';
import type { BroadcastBody, PublishItem } from './peer-events.js';

const apiKey = process.env['PEER_API_KEY'] ?? BENCH_API_KEY;
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface PeerRoutes {
  publish(items: PublishItem[]): void;
  /** Returns how many connections the broadcast was written to. */
  broadcast(body: BroadcastBody): number;
}

/**
 * The two ingest endpoints of Herald, with the same bodies and the same Bearer key: POST /publish (one item or an
 * array) and POST /broadcast. Anything else is a 404, so that a WebSocket library attached to the same server
 * keeps its own paths.
 */
export function createPeerHttpServer(routes: PeerRoutes): Server {
  return createServer((request, response) => {
    if (request.method !== 'POST' || (request.url !== '/publish' && request.url !== '/broadcast')) {
      return reply(response, 404, { error: 'not_found' });
    }
    if (request.headers.authorization !== `Bearer ${apiKey}`) return reply(response, 401, { error: 'unauthorized' });
    readJson(request)
      .then((body) => {
        if (request.url === '/broadcast') return reply(response, 200, { connections: routes.broadcast(body as BroadcastBody) });
        const items = (Array.isArray(body) ? body : [body]) as PublishItem[];
        routes.publish(items);
        reply(response, 200, { accepted: items.length, stored: items.length });
      })
      .catch(() => reply(response, 400, { error: 'bad_request' }));
  });
}

/** Prints the address in the same shape as Herald's "listening" log line, which is how the benchmark finds it. */
export function listen(server: Server): void {
  server.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1', () => {
    const address = server.address();
    if (address && typeof address === 'object') console.log(JSON.stringify({ url: `http://127.0.0.1:${address.port}` }));
  });
}

function readJson(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return reject(new Error('body too large'));
      chunks.push(chunk);
    });
    request.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString()));
      } catch (error) {
        reject(error);
      }
    });
    request.on('error', reject);
  });
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

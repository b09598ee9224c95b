import type { AddressInfo } from 'node:net';
import type { Notification } from '@herald/protocol';
import { WebSocket, WebSocketServer } from 'ws';
import { waitUntil } from '../../server/test/helpers/wait-until.js';
import { HeraldClient } from '../src/herald-client.js';
import type { HeraldClientOptions } from '../src/client-options.js';

/** One REST call the client made, waiting for the test to answer it. */
export interface HeldRequest {
  method: string;
  url: URL;
  body: unknown;
  answer(body: unknown, status?: number): void;
}

/**
 * Herald as a test scripts it, behind the client's two seams: a real WebSocket server on port 0 that sends what
 * the test says, and a `fetch` whose calls wait until the test answers them, so that a test decides exactly which
 * stream events arrive before, during and after a REST answer.
 */
export class ScriptedHerald {
  /** Frames the client sent, parsed. */
  readonly received: any[] = [];
  /** The URL of each WebSocket connection, in order. */
  readonly connections: string[] = [];
  socket: WebSocket | undefined;
  readonly #held: HeldRequest[] = [];
  readonly #server: WebSocketServer;

  private constructor(server: WebSocketServer) {
    this.#server = server;
    server.on('connection', (socket, request) => {
      this.socket = socket;
      this.connections.push(request.url ?? '');
      socket.on('message', (data) => this.received.push(JSON.parse(data.toString())));
    });
  }

  static async start(): Promise<ScriptedHerald> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'herald.v1' });
    await new Promise((resolve) => server.once('listening', resolve));
    return new ScriptedHerald(server);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  readonly fetch: typeof fetch = (input, init) =>
    new Promise<Response>((resolve) => {
      const text = init?.body;
      this.#held.push({
        method: init?.method ?? 'GET',
        url: new URL(String(input)),
        body: typeof text === 'string' ? JSON.parse(text) : undefined,
        answer: (body, status = 200) => resolve(new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })),
      });
    });

  /** A client of this Herald, closed by the returned cleanup. */
  client(options: Partial<HeraldClientOptions> = {}): HeraldClient {
    return new HeraldClient({ url: this.url, token: 'a.b.c', WebSocket, fetch: this.fetch, resumeRetryMs: 60_000, ...options });
  }

  /** Waits for the client's call to `pathname` and takes it off the queue, unanswered. */
  async request(pathname: string): Promise<HeldRequest> {
    let found: HeldRequest | undefined;
    await waitUntil(() => (found = this.#held.find((request) => request.url.pathname === pathname)) !== undefined, `a request to ${pathname}`);
    this.#held.splice(this.#held.indexOf(found!), 1);
    return found!;
  }

  /** Calls to `pathname` not taken yet. */
  pending(pathname: string): number {
    return this.#held.filter((request) => request.url.pathname === pathname).length;
  }

  /** Waits for the next socket and says `connected` on it. */
  async accept(connections: number, payload: { seq: number; since?: number; user_id?: string }): Promise<void> {
    await waitUntil(() => this.connections.length === connections && this.socket?.readyState === WebSocket.OPEN, `connection ${connections}`);
    this.send({
      type: 'connected',
      payload: { user_id: payload.user_id ?? 'scripted-user', seq: payload.seq, since: payload.since ?? payload.seq, ping_interval_ms: 30_000 },
    });
  }

  send(frame: object): void {
    this.socket!.send(JSON.stringify(frame));
  }

  dropConnection(code: number): void {
    this.socket!.close(code);
  }

  close(): Promise<void> {
    for (const client of this.#server.clients) client.terminate();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

let made = 0;

/** A complete notification record, as GET /notifications lists it. */
export function record(fields: Partial<Notification> = {}): Notification {
  made++;
  return {
    id: `00000000-0000-4000-8000-${String(made).padStart(12, '0')}`,
    key: null,
    category: null,
    status: 'unread',
    seen_at: null,
    read_at: null,
    archived_at: null,
    expires_at: null,
    created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, made)).toISOString(),
    actions: [],
    actioned: null,
    payload: {},
    ...fields,
  };
}

/** A new_notification frame as Herald sends it: the unset optional fields left out. */
export function newNotificationFrame(seq: number, notification: Notification): object {
  const { id, key, status, created_at, read_at, payload, category, expires_at, actions } = notification;
  return {
    type: 'new_notification',
    seq,
    payload: {
      id,
      key,
      status,
      created_at,
      read_at,
      payload,
      ...(category !== null && { category }),
      ...(expires_at !== null && { expires_at }),
      ...(actions.length > 0 && { actions }),
    },
  };
}

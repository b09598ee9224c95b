import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../server/test/helpers/wait-until.js';
import { HeraldClient } from '../src/herald-client.js';

/**
 * Herald itself never sends a hole on one connection, so the client's second line of defence is driven by a
 * scripted peer on a real socket that speaks Herald's protocol and misbehaves on purpose.
 */
class ScriptedPeer {
  readonly received: any[] = [];
  socket: WebSocket | undefined;
  readonly offered: string[] = [];
  private constructor(private readonly server: WebSocketServer) {
    server.on('connection', (socket, request) => {
      this.socket = socket;
      this.offered.push(String(request.headers['sec-websocket-protocol']));
      socket.on('message', (data) => this.received.push(JSON.parse(data.toString())));
    });
  }

  static async start(): Promise<ScriptedPeer> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'herald.v1' });
    await new Promise((resolve) => server.once('listening', resolve));
    return new ScriptedPeer(server);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  send(frame: object): void {
    this.socket!.send(JSON.stringify(frame));
  }

  event(seq: number): object {
    return { type: 'task_update', seq, payload: { action: 'updated', task: { seq } } };
  }

  close(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function connectedPair(since = 0) {
  const peer = await ScriptedPeer.start();
  cleanups.push(() => peer.close());
  const client = new HeraldClient({ url: peer.url, token: 'a.b.c', WebSocket, resumeRetryMs: 60_000 });
  cleanups.push(() => client.close());
  const seqs: number[] = [];
  client.on('event', (frame) => seqs.push(frame.seq));
  client.connect();
  await waitUntil(() => peer.socket !== undefined, 'the client to connect');
  peer.send({ type: 'connected', payload: { user_id: 'gap-user', seq: since, since, ping_interval_ms: 30_000 } });
  await waitUntil(() => client.state === 'open', 'the connected frame');
  return { peer, client, seqs };
}

describe('HeraldClient seq checks', () => {
  it('offers the token as a subprotocol, never in the URL', async () => {
    const { peer } = await connectedPair();
    expect(peer.offered.map((header) => header.split(/,\s*/))).toEqual([['herald.v1', 'herald.token.a.b.c']]);
  });

  it('asks for a resume after a hole, once, and delivers the replay in order without repeats', async () => {
    const { peer, seqs } = await connectedPair();
    peer.send(peer.event(1));
    peer.send(peer.event(3));
    peer.send(peer.event(4));
    await waitUntil(() => peer.received.some((frame) => frame.type === 'resume'), 'a resume request');
    expect(seqs).toEqual([1]);

    // The replay from the store, then the live frames again, as Herald would send them.
    for (const seq of [2, 3, 4, 3, 5]) peer.send(peer.event(seq));
    await waitUntil(() => seqs.length === 5, 'the replayed events');
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
    expect(peer.received.filter((frame) => frame.type === 'resume')).toEqual([{ type: 'resume', payload: { since: 1 } }]);
  });

  it('drops a repeated seq and answers pings with pongs', async () => {
    const { peer, seqs } = await connectedPair(10);
    for (const seq of [9, 10, 11, 11, 12]) peer.send(peer.event(seq));
    peer.send({ type: 'ping', payload: {} });
    await waitUntil(() => peer.received.some((frame) => frame.type === 'pong'), 'a pong');
    expect(seqs).toEqual([11, 12]);
  });

  it('reconnects with since = the last delivered seq after the peer drops it', async () => {
    const { peer, client, seqs } = await connectedPair();
    for (const seq of [1, 2, 3]) peer.send(peer.event(seq));
    await waitUntil(() => seqs.length === 3, 'three events');
    const urls: string[] = [];
    (peer as unknown as { server: WebSocketServer }).server.on('connection', (_socket, request) => urls.push(request.url ?? ''));
    peer.socket!.close(1012, 'restart');
    await waitUntil(() => urls.length === 1, 'the reconnect', 10_000);
    expect(urls[0]).toBe('/ws/notifications?since=3');
    expect(urls[0]).not.toContain('token');
    expect(client.lastSeq).toBe(3);
  });
});

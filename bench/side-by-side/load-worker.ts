/**
 * One process of the load generator: holds a share of the connections (at most a few thousand, within the
 * open-file limit), counts the events each receives and times them from the `sent` stamp. Driven by the
 * coordinator (load-generator.ts) over IPC.
 */
import WebSocket from 'ws';
import { mintToken } from '../../packages/server/src/auth/mint-token.js';
import { BENCH_SECRET } from '../herald-process.js';
import { CLIENT_PROTOCOLS, forEachSent, nowMs, sentAt, type ClientProtocol } from './client-protocols.js';
import type { WorkerCommand, WorkerReply, WorkerStats } from './load-messages.js';

interface Client {
  user: string;
  token: string;
  address: string;
  ws?: WebSocket;
  ready: boolean;
  received: number;
  lastSeq: number;
}

const SEQ_MARK = Buffer.from('"seq":');

let protocol: ClientProtocol;
let clients: Client[] = [];
let base = '';
let reconnecting = false;
let stats = freshCounters(false);
let cpuAtReset = process.cpuUsage();
let wallAtReset = nowMs();
let churnTimer: NodeJS.Timeout | undefined;

function freshCounters(recordLatency: boolean) {
  return {
    received: 0,
    lastEventAt: 0,
    lastReadyAt: 0,
    retries: 0,
    churned: 0,
    latencies: recordLatency ? new Float64Array(1 << 16) : undefined,
    latencyCount: 0,
  };
}

function recordLatency(ms: number): void {
  let latencies = stats.latencies!;
  if (stats.latencyCount === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    stats.latencies = latencies = grown;
  }
  latencies[stats.latencyCount++] = ms;
}

function connect(client: Client): Promise<void> {
  return new Promise((resolve) => {
    let settled = false;
    const ws = new WebSocket(protocol.url(base, client.lastSeq), protocol.protocols(client.token), {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      localAddress: client.address,
      handshakeTimeout: 60_000,
    });
    client.ws = ws;
    const becomeReady = () => {
      client.ready = true;
      stats.lastReadyAt = nowMs();
      settled = true;
      resolve();
    };
    const retry = () => {
      if (settled) return;
      settled = true;
      stats.retries++;
      // Jittered, so that refused clients do not come back in one wave.
      setTimeout(() => void connect(client).then(resolve), 100 + Math.random() * 400);
    };
    const send = (text: string) => ws.send(text);
    ws.on('open', () => {
      protocol.onOpen?.(send, client.token);
      if (protocol.readyOnOpen) becomeReady();
    });
    ws.on('message', (data: Buffer) => {
      let kind;
      try {
        kind = protocol.onFrame(data, send, client.token);
      } catch {
        return ws.terminate();
      }
      if (kind === 'ready') becomeReady();
      if (kind === 'other') return;
      // One frame may carry several events (and a ready frame the first ones, e.g. recovered publications).
      const at = nowMs();
      const count = forEachSent(data, stats.latencies && ((markAt) => recordLatency(at - sentAt(data, markAt))));
      if (count === 0) return;
      client.received += count;
      stats.received += count;
      stats.lastEventAt = at;
      const seqAt = data.indexOf(SEQ_MARK);
      if (seqAt >= 0 && seqAt < 64) client.lastSeq = Number(data.toString('latin1', seqAt + 6, data.indexOf(0x2c, seqAt)));
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      // A socket that churn or closeAll already replaced or dropped: the client's state is no longer its own.
      if (client.ws !== ws) return;
      const wasReady = client.ready;
      client.ready = false;
      if (!wasReady) return retry();
      if (reconnecting) setTimeout(() => void connect(client), Math.random() * 250);
    });
  });
}

/** Opens every client, `burst` at a time (all at once when burst >= the number of clients). */
async function openAll(burst: number): Promise<void> {
  for (let start = 0; start < clients.length; start += burst) {
    await Promise.all(clients.slice(start, start + burst).map((client) => connect(client)));
  }
}

async function closeAll(): Promise<void> {
  reconnecting = false;
  clearInterval(churnTimer);
  await Promise.all(
    clients.map(
      (client) =>
        new Promise<void>((resolve) => {
          const ws = client.ws;
          client.ws = undefined;
          client.ready = false;
          if (!ws || ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once('close', () => resolve());
          ws.terminate();
        }),
    ),
  );
}

/** Every tick, closes a few open clients and opens them again: steady connects and disconnects. */
function churn(seconds: number, perSecond: number): Promise<void> {
  const tickMs = 100;
  const perTick = Math.max(1, Math.round((perSecond * tickMs) / 1000));
  let cursor = 0;
  return new Promise((resolve) => {
    const end = Date.now() + seconds * 1000;
    churnTimer = setInterval(() => {
      for (let n = 0; n < perTick; n++) {
        const client = clients[cursor++ % clients.length]!;
        const ws = client.ws;
        if (!ws || !client.ready) continue;
        client.ws = undefined;
        client.ready = false;
        ws.close();
        stats.churned++;
        void connect(client);
      }
      if (Date.now() >= end) {
        clearInterval(churnTimer);
        resolve();
      }
    }, tickMs);
  });
}

function snapshot(withLatencies = false): WorkerStats {
  let minPerClient = Infinity;
  let maxPerClient = 0;
  let ready = 0;
  for (const client of clients) {
    minPerClient = Math.min(minPerClient, client.received);
    maxPerClient = Math.max(maxPerClient, client.received);
    if (client.ready) ready++;
  }
  const cpu = process.cpuUsage(cpuAtReset);
  return {
    clients: clients.length,
    ready,
    received: stats.received,
    minPerClient: clients.length ? minPerClient : 0,
    maxPerClient,
    lastEventAt: stats.lastEventAt,
    lastReadyAt: stats.lastReadyAt,
    retries: stats.retries,
    churned: stats.churned,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    wallSeconds: (nowMs() - wallAtReset) / 1000,
    latencies: withLatencies ? stats.latencies?.slice(0, stats.latencyCount) : undefined,
  };
}

async function handle(command: WorkerCommand): Promise<unknown> {
  switch (command.op) {
    case 'prepare':
      protocol = CLIENT_PROTOCOLS[command.kind];
      // Tokens are minted before any timing starts.
      clients = await Promise.all(
        command.users.map(async (user, index) => ({
          user,
          token: await mintToken(BENCH_SECRET, user, '2h'),
          address: command.addresses[index % command.addresses.length]!,
          ready: false,
          received: 0,
          lastSeq: 0,
        })),
      );
      return clients.length;
    case 'open':
      base = command.base;
      await openAll(command.burst);
      return snapshot();
    case 'reset':
      stats = freshCounters(command.recordLatency);
      for (const client of clients) client.received = 0;
      cpuAtReset = process.cpuUsage();
      wallAtReset = nowMs();
      return null;
    case 'stats':
      return snapshot(command.latencies);
    case 'reconnect':
      reconnecting = command.enabled;
      base = command.base;
      return null;
    case 'churn':
      await churn(command.seconds, command.perSecond);
      return snapshot();
    case 'close':
      await closeAll();
      return null;
  }
}

process.on('message', (message: { id: number; command: WorkerCommand }) => {
  handle(message.command).then(
    (result) => process.send!({ id: message.id, result } satisfies WorkerReply),
    (error: Error) => process.send!({ id: message.id, error: error.stack ?? String(error) } satisfies WorkerReply),
  );
});
process.on('disconnect', () => process.exit(0));

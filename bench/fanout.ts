/**
 * Fan-out benchmark: one Herald process (embedded SQLite, in a temp data dir) and this process as the load
 * generator. Opens CONNECTIONS sockets (one user each), publishes ROUNDS rounds of one event per user through
 * POST /publish in batches, and measures deliveries per second and publish-to-receive latency.
 *
 *   npx tsx bench/fanout.ts [connections=2000] [rounds=5] [batch=500]
 */
import WebSocket from 'ws';
import { mintToken } from '../packages/server/src/auth/mint-token.js';
import { BENCH_API_KEY, BENCH_SECRET, percentile, startHerald } from './herald-process.js';
import { machine, saveResult } from './result-file.js';

const [connections = 2000, rounds = 5, batch = 500] = process.argv.slice(2).map(Number);

function rssOf(pid: number): Promise<number> {
  return import('node:fs/promises').then(async (fs) => {
    const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  });
}

async function main(): Promise<void> {
  const server = await startHerald({ HERALD_MAX_CONNECTIONS_PER_ADDRESS: String(connections + 10) });
  const wsUrl = server.url.replace('http', 'ws') + '/ws/notifications';
  const rssBefore = await rssOf(server.pid);
  const latencies: number[] = [];
  let received = 0;
  let onReceived: () => void = () => {};
  const sockets: WebSocket[] = [];
  const connectStart = performance.now();
  for (let start = 0; start < connections; start += 200) {
    const group = Array.from({ length: Math.min(200, connections - start) }, async (_, offset) => {
      const token = await mintToken(BENCH_SECRET, `user-${start + offset}`, '1h');
      const ws = new WebSocket(`${wsUrl}?token=${token}`, { perMessageDeflate: false });
      ws.on('message', (data: Buffer) => {
        // Cheap parsing: only stream events carry "sent", a number the publisher stamped.
        const text = data.toString();
        const at = text.indexOf('"sent":');
        if (at < 0) return;
        latencies.push(Date.now() - Number(text.slice(at + 7, text.indexOf('}', at))));
        received++;
        onReceived();
      });
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      sockets.push(ws);
    });
    await Promise.all(group);
  }
  const connectMs = performance.now() - connectStart;
  const rssConnected = await rssOf(server.pid);

  const expected = connections * rounds;
  const done = new Promise<void>((resolve) => {
    onReceived = () => {
      if (received >= expected) resolve();
    };
  });
  const publishStart = performance.now();
  for (let round = 0; round < rounds; round++) {
    for (let start = 0; start < connections; start += batch) {
      const items = Array.from({ length: Math.min(batch, connections - start) }, (_, offset) => ({
        user_id: `user-${start + offset}`,
        type: 'new_notification',
        payload: { round, sent: Date.now() },
      }));
      const response = await fetch(`${server.url}/publish`, {
        method: 'POST',
        headers: { authorization: `Bearer ${BENCH_API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(items),
      });
      if (response.status !== 200) throw new Error(`publish failed: ${response.status} ${await response.text()}`);
    }
  }
  await done;
  const seconds = (performance.now() - publishStart) / 1000;
  latencies.sort((a, b) => a - b);
  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    connections,
    rounds,
    batch,
    connectSeconds: +(connectMs / 1000).toFixed(2),
    rssPerConnectionKiB: +((rssConnected - rssBefore) / connections / 1024).toFixed(1),
    deliveriesPerSecond: Math.round(expected / seconds),
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) },
  };
  for (const ws of sockets) ws.terminate();
  await server.stop();
  saveResult('fanout', result.date, result);
  console.log(JSON.stringify(result, null, 2));
}

await main();

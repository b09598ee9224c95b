/**
 * Handshake flood: does a storm of refused WebSocket handshakes slow delivery to users already connected?
 * One Herald process (embedded SQLite); this process holds USERS connected users and publishes to them at a
 * steady rate, first alone, then while FLOODERS sockets keep opening upgrades with forged tokens. Reports the
 * publish-to-receive latency of both phases and how the flood was refused. The flood runs in a process of its
 * own, so that its client work does not slow the measuring side.
 *
 *   npx tsx bench/handshake-flood.ts [users=200] [flooders=500] [seconds=10] [rate=100]
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import WebSocket from 'ws';
import { handshakeProtocols } from '../packages/protocol/src/handshake.js';
import { mintToken } from '../packages/server/src/auth/mint-token.js';
import { BENCH_API_KEY, BENCH_SECRET, percentile, startHerald } from './herald-process.js';
import { machine, saveResult } from './result-file.js';

const [users = 200, flooders = 500, seconds = 10, rate = 100] = process.argv[2] === '--flood' ? [] : process.argv.slice(2).map(Number);

/** The flooding process: keeps `count` forged upgrades in flight until told to stop, then reports the outcomes. */
async function flood(wsUrl: string, count: number): Promise<void> {
  const forged = `${(await mintToken(BENCH_SECRET, 'flooder', '1h')).slice(0, -4)}AAAA`;
  const outcomes: Record<string, number> = {};
  let flooding = true;
  process.on('message', () => (flooding = false));
  const loop = async (): Promise<void> => {
    while (flooding) {
      const outcome = await new Promise<string>((resolve) => {
        const ws = new WebSocket(wsUrl, handshakeProtocols(forged), { perMessageDeflate: false });
        ws.once('close', (code) => resolve(`close ${code}`));
        ws.once('unexpected-response', (_request, response) => {
          resolve(`HTTP ${response.statusCode}`);
          ws.terminate();
        });
        ws.once('error', () => resolve('error'));
      });
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: count }, loop));
  // The IPC channel keeps both processes alive while it is open: once the outcomes are sent, it closes.
  process.send!(outcomes, () => process.disconnect());
}

interface Phase {
  latencies: number[];
  published: number;
  received: number;
}

async function main(): Promise<void> {
  const server = await startHerald({ HERALD_MAX_CONNECTIONS_PER_ADDRESS: String(users + flooders + 100) });
  const wsUrl = `${server.url.replace('http', 'ws')}/ws/notifications`;
  let phase: Phase = { latencies: [], published: 0, received: 0 };
  const sockets: WebSocket[] = [];
  for (let i = 0; i < users; i++) {
    const ws = new WebSocket(wsUrl, handshakeProtocols(await mintToken(BENCH_SECRET, `steady-${i}`, '1h')), { perMessageDeflate: false });
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      const at = text.indexOf('"sent":');
      if (at < 0) return;
      phase.latencies.push(Date.now() - Number(text.slice(at + 7, text.indexOf('}', at))));
      phase.received++;
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    sockets.push(ws);
  }

  const publishFor = async (ms: number): Promise<void> => {
    const end = Date.now() + ms;
    let n = 0;
    while (Date.now() < end) {
      const started = Date.now();
      const user = `steady-${n++ % users}`;
      await fetch(`${server.url}/publish`, {
        method: 'POST',
        headers: { authorization: `Bearer ${BENCH_API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ user_id: user, type: 'new_notification', payload: { sent: Date.now() } }),
      });
      phase.published++;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 / rate - (Date.now() - started))));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  };

  await publishFor(seconds * 1000);
  const quiet = phase;

  phase = { latencies: [], published: 0, received: 0 };
  const child = fork(new URL(import.meta.url).pathname, ['--flood', wsUrl, String(flooders)], { execArgv: ['--import', 'tsx'] });
  const outcomes = new Promise<Record<string, number>>((resolve) => child.once('message', (message) => resolve(message as Record<string, number>)));
  await publishFor(seconds * 1000);
  const exited = once(child, 'exit');
  child.send('stop');
  const refusals = await outcomes;
  await exited;
  const attempts = Object.values(refusals).reduce((sum, count) => sum + count, 0);
  const flooded = phase;

  for (const ws of sockets) ws.close();
  await server.stop();

  const summary = (p: Phase) => {
    const sorted = [...p.latencies].sort((a, b) => a - b);
    return { published: p.published, received: p.received, p50_ms: percentile(sorted, 50), p99_ms: percentile(sorted, 99), max_ms: sorted.at(-1) ?? 0 };
  };
  const result = {
    benchmark: 'handshake-flood',
    date: new Date().toISOString(),
    machine: machine(),
    parameters: { users, flooders, seconds, rate },
    quiet: summary(quiet),
    flooded: summary(flooded),
    flood: { handshakes: attempts, per_second: Math.round(attempts / seconds), outcomes: refusals },
  };
  const file = saveResult('handshake-flood', result.date, result);
  console.log(JSON.stringify(result, null, 2));
  console.log(`written to ${file}`);
}

if (process.argv[2] === '--flood') await flood(process.argv[3]!, Number(process.argv[4]));
else await main();

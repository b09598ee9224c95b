/**
 * Fairness: can one user slow everyone else down? One `herald start` (embedded SQLite, Herald's default frame
 * limit unless told otherwise); this process holds TABS honest tabs (one user each) and publishes RATE events a
 * second to them over POST /publish, while it polls GET /healthz every 50 ms. Three phases of SECONDS each:
 *
 *   quiet   no attack;
 *   flood   one connection sends 300,000 tiny frames (`{"type":"ping"}`) as fast as it can;
 *   replay  one user with 100,000 stored events has 3 tabs that resume from 0 again and again, reading fast
 *           (each tab resumes as soon as it has the whole stream again).
 *
 * Reports, per phase, the honest tabs' publish-to-receive latency and /healthz's latency (p50, p99, max), the
 * load average, Herald's CPU time, and what the attack did. Each attack runs in a process of its own, so that its
 * client work does not slow the measuring side; where taskset is available Herald has core 0 to itself and the
 * measuring side and the attackers share core 1. `limit=off` sets the frame limit to its largest values, to
 * measure what the flood does without it.
 *
 *   npx tsx bench/fairness.ts [seconds=10] [tabs=200] [rate=200] [limit=on|off] [phases=quiet,flood,replay]
 */
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import WebSocket from 'ws';
import { mintToken } from '../packages/server/src/auth/mint-token.js';
import { BENCH_API_KEY, BENCH_SECRET, percentile, processCpuSeconds, startHerald } from './herald-process.js';
import { machine, saveResult } from './result-file.js';
import { canPin, LOAD_CORE, pinProcess, SERVER_CORE } from './side-by-side/pinning.js';

const FLOOD_FRAMES = 300_000;
const STORED_EVENTS = 100_000;
const REPLAY_TABS = 3;
const REPLAY_USER = 'replayer';
/** A publish batch and a health check go out every TICK_MS. */
const TICK_MS = 50;
const PONG = JSON.stringify({ type: 'pong', payload: {} });
/** How long after a phase its last events and health checks may still come back. */
const PHASE_GRACE_MS = 30_000;

const role = process.argv[2];
const [seconds = 10, tabs = 200, rate = 200] = role?.startsWith('--') ? [] : process.argv.slice(2, 5).map(Number);
const limit = process.argv[5] ?? 'on';
const phases = (process.argv[6] ?? 'quiet,flood,replay').split(',');

/** Stats of a list of milliseconds. */
function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50_ms: round(percentile(sorted, 50)), p99_ms: round(percentile(sorted, 99)), max_ms: round(sorted.at(-1) ?? 0) };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** Answers Herald's JSON pings, so that no socket of the run is taken for idle. */
function answerPings(ws: WebSocket, text: string): void {
  if (text.startsWith('{"type":"ping"')) ws.send(PONG);
}

function openSocket(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  return new Promise((resolve, reject) => ws.once('open', () => resolve(ws)).once('error', reject));
}

/** The flooding process: one connection, FLOOD_FRAMES tiny frames written at once; reports how it ended. */
async function flood(wsUrl: string): Promise<void> {
  const ws = await openSocket(`${wsUrl}?token=${await mintToken(BENCH_SECRET, 'flooder', '1h')}`);
  let pongs = 0;
  let errors = 0;
  ws.on('message', (data: Buffer) => {
    const text = data.toString();
    if (text.startsWith('{"type":"pong"')) pongs++;
    else if (text.startsWith('{"type":"error"')) errors++;
  });
  const started = performance.now();
  let written = 0;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  for (; written < FLOOD_FRAMES && ws.readyState === WebSocket.OPEN; written++) ws.send('{"type":"ping"}');
  const writtenMs = performance.now() - started;
  const drained = new Promise<number>((resolve) => {
    const check = () => (ws.bufferedAmount === 0 || ws.readyState !== WebSocket.OPEN ? resolve(performance.now() - started) : setTimeout(check, 5));
    check();
  });
  // Stopped by the parent at the end of the phase if Herald never closes it.
  process.once('message', () => ws.terminate());
  const end = await closed;
  const outcome = { written, written_ms: round(writtenMs), sent_ms: round(await drained), closed_after_ms: round(performance.now() - started), close: end, pongs, errors };
  process.send!(outcome, () => process.disconnect());
}

/** The replaying process: REPLAY_TABS tabs of one user, each resuming from 0 whenever it has the whole stream. */
async function replay(wsUrl: string, head: number): Promise<void> {
  let stopping = false;
  const totals = { replays: 0, events: 0, closes: [] as number[] };
  const tab = async (): Promise<void> => {
    const ws = await openSocket(`${wsUrl}?token=${await mintToken(BENCH_SECRET, REPLAY_USER, '1h')}&since=0`);
    await new Promise<void>((resolve) => {
      ws.on('message', (data: Buffer) => {
        const text = data.toString();
        // Reading fast: no JSON parsing, only the seq of the stream's last event is looked for.
        if (!text.startsWith('{"type":"new_notification"')) return answerPings(ws, text);
        totals.events++;
        if (text.includes(`"seq":${head},`) && !stopping) {
          totals.replays++;
          ws.send(JSON.stringify({ type: 'resume', payload: { since: 0 } }));
        }
      });
      ws.once('close', (code) => {
        totals.closes.push(code);
        resolve();
      });
      process.once('message', () => {
        stopping = true;
        ws.close();
      });
    });
  };
  await Promise.all(Array.from({ length: REPLAY_TABS }, tab));
  process.send!(totals, () => process.disconnect());
}

async function publish(url: string, items: unknown[]): Promise<void> {
  const response = await fetch(`${url}/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(items),
  });
  if (response.status !== 200) throw new Error(`publish answered ${response.status}: ${await response.text()}`);
}

async function main(): Promise<void> {
  const env: Record<string, string> = { HERALD_MAX_CONNECTIONS_PER_ADDRESS: String(tabs + 100) };
  // The largest values the configuration takes: 300,000 frames pass.
  if (limit === 'off') Object.assign(env, { HERALD_MAX_FRAMES_PER_SECOND: '100000', HERALD_FRAME_BURST: '1000000' });
  const server = await startHerald(env);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void server.stop().then(() => process.exit(1)));
  // The attackers are forked from this process and inherit its core.
  pinProcess(server.pid, SERVER_CORE);
  pinProcess(process.pid, LOAD_CORE);
  const wsUrl = `${server.url.replace('http', 'ws')}/ws/notifications`;

  for (let start = 0; start < STORED_EVENTS; start += 500) {
    const items = Array.from({ length: 500 }, (_, offset) => ({ user_id: REPLAY_USER, type: 'new_notification', payload: { n: start + offset } }));
    await publish(server.url, items);
  }

  let latencies: number[] = [];
  let lost = 0;
  const sockets: WebSocket[] = [];
  for (let i = 0; i < tabs; i++) {
    const ws = await openSocket(`${wsUrl}?token=${await mintToken(BENCH_SECRET, `honest-${i}`, '1h')}`);
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      const at = text.indexOf('"sent":');
      if (at < 0) return answerPings(ws, text);
      latencies.push(Date.now() - Number(text.slice(at + 7, text.indexOf('}', at))));
    });
    ws.on('close', () => lost++);
    sockets.push(ws);
  }

  /**
   * Publishes RATE events a second (a batch every TICK_MS) and polls /healthz every TICK_MS, for `ms`. Both run on
   * their schedule whether or not the previous request was answered (a stalled server is not given time to catch
   * up), and what has not come back PHASE_GRACE_MS after the phase is counted as undelivered or unanswered.
   */
  const honestTraffic = async (ms: number) => {
    latencies = [];
    const health: number[] = [];
    const end = Date.now() + ms;
    const perBatch = Math.max(1, Math.round((rate * TICK_MS) / 1000));
    let next = 0;
    let published = 0;
    const requests: Promise<void>[] = [];
    for (let tick = Date.now(); tick < end; tick += TICK_MS) {
      const items = Array.from({ length: perBatch }, () => ({ user_id: `honest-${next++ % tabs}`, type: 'new_notification', payload: { sent: Date.now() } }));
      published += items.length;
      requests.push(publish(server.url, items));
      const started = performance.now();
      requests.push(
        fetch(`${server.url}/healthz`).then(async (response) => {
          await response.text();
          health.push(performance.now() - started);
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, tick + TICK_MS - Date.now())));
    }
    const settled = Promise.allSettled(requests).then(async () => {
      // Whatever was published in the last batches arrives.
      while (latencies.length < published) await new Promise((resolve) => setTimeout(resolve, 50));
    });
    await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, PHASE_GRACE_MS))]);
    const polls = requests.length / 2;
    return {
      published,
      received: latencies.length,
      undelivered: published - latencies.length,
      delivery: summary(latencies),
      healthz: { ...summary(health), unanswered: polls - health.length },
    };
  };

  const phase = async (name: string, attack?: { args: string[] }) => {
    const load = loadavg()[0]!;
    const cpu = processCpuSeconds(server.pid);
    const child = attack && fork(new URL(import.meta.url).pathname, attack.args, { execArgv: ['--import', 'tsx'] });
    const report = child && new Promise<unknown>((resolve) => child.once('message', resolve));
    if (child) await new Promise((resolve) => setTimeout(resolve, 200));
    const traffic = await honestTraffic(seconds * 1000);
    if (child?.connected) child.send('stop');
    const outcome = await report;
    const result = { phase: name, ...traffic, herald_cpu_s: round(processCpuSeconds(server.pid) - cpu), load_average_1m: { start: load, end: loadavg()[0]! }, attack: outcome };
    console.log(JSON.stringify(result));
    return result;
  };

  const attacks: Record<string, string[] | undefined> = {
    quiet: undefined,
    flood: ['--flood', wsUrl],
    replay: ['--replay', wsUrl, String(STORED_EVENTS)],
  };
  const results = [];
  for (const name of phases) {
    if (!(name in attacks)) throw new Error(`unknown phase ${name}: quiet, flood or replay`);
    const args = attacks[name];
    results.push(await phase(name, args && { args }));
  }

  for (const ws of sockets) ws.terminate();
  await server.stop();
  const result = {
    benchmark: 'fairness',
    date: new Date().toISOString(),
    machine: machine(),
    parameters: { seconds, tabs, rate, limit, pinned: canPin(), flood_frames: FLOOD_FRAMES, stored_events: STORED_EVENTS, replay_tabs: REPLAY_TABS },
    honest_tabs_closed: lost,
    phases: results,
  };
  const file = saveResult(`fairness${limit === 'off' ? '-nolimit' : ''}`, result.date, result);
  console.log(`written to ${file}`);
}

// An attacker whose parent is gone stops too.
if (role?.startsWith('--')) process.once('disconnect', () => process.exit(0));
if (role === '--flood') await flood(process.argv[3]!);
else if (role === '--replay') await replay(process.argv[3]!, Number(process.argv[4]));
else await main();

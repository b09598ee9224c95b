/**
 * Memory and fairness of replays and list pages (RELIABILITY.md, "Replays and list pages"). Each phase seeds its
 * data through POST /publish on one `herald start` (SQLite, in a temp data dir), stops it, and attacks a fresh
 * process on the same data, so that the server's peak RSS (VmHWM) is the attack's alone:
 *
 *   tabs      one user, 300 notifications of ~900 KB; ten tabs resume from since=0 and never read
 *   users     four users, 75 of them each; five such tabs per user
 *   lists     the first user's data; thirty GET /notifications?limit=100 on raw sockets that never read the answer
 *   fairness  one user with 100,000 small events; three tabs resume from 0 again and again, reading fast, while
 *             /healthz and another user's deliveries are timed
 *   replay    20,000 small events replayed to one reading tab, 15 times: wall time and server CPU per replay
 *
 * In the attack phases a bystander's reading tab must still receive an event published during the attack.
 *
 *   npx tsx bench/replay-memory.ts [--heraldDir=.] [--label=after] [--phases=tabs,users,lists,fairness,replay]
 *
 * --heraldDir is a checkout with Herald built (`npx tsc -b`), e.g. a `git archive` of an earlier commit. Writes
 * bench/results/replay-memory-<label>-<date>.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { mintToken } from '../packages/server/src/auth/mint-token.js';
import { BENCH_API_KEY, BENCH_SECRET, percentile, processCpuSeconds } from './herald-process.js';
import { machine, saveResult } from './result-file.js';

const args = Object.fromEntries(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=') as [string, string]));
const heraldDir = resolve(args.heraldDir ?? '.');
const label = args.label ?? 'run';
const phases = (args.phases ?? 'tabs,users,lists,fairness,replay').split(',');
const BIG = 900_000;

interface Server {
  url: string;
  child: ChildProcess;
  pid: number;
  exited: Promise<string>;
  stop(): Promise<void>;
}

/** `herald start` from heraldDir on `dataDir`; resolves with its URL from the "listening" line. */
async function start(dataDir: string): Promise<Server> {
  const child = spawn(process.execPath, ['packages/server/bin/herald.js', 'start'], {
    cwd: heraldDir,
    env: { ...process.env, HERALD_PORT: '0', HERALD_DATA_DIR: dataDir, HERALD_JWT_SECRET: BENCH_SECRET, HERALD_API_KEY: BENCH_API_KEY, HERALD_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<string>((done) => child.once('exit', (code, signal) => done(signal ?? `exit ${code}`)));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const url = await new Promise<string>((found, failed) => {
    let seen: string | undefined = '';
    // Read to the end (a full pipe would stall the server's logging), kept only until the URL is found.
    child.stdout!.on('data', (chunk: Buffer) => {
      if (seen === undefined) return;
      seen += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)"/.exec(seen);
      if (match?.[1]) {
        seen = undefined;
        found(match[1]);
      }
    });
    void exited.then((how) => failed(new Error(`herald ended (${how}) before listening: ${stderr}`)));
  });
  return {
    url,
    child,
    pid: child.pid!,
    exited,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

function status(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

async function publish(url: string, items: unknown[]): Promise<void> {
  const response = await fetch(`${url}/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(items),
  });
  if (response.status !== 200) throw new Error(`publish answered ${response.status}: ${await response.text()}`);
}

/** A data dir holding what `seed` publishes, made by a server of its own that is gone afterwards. */
async function seeded(seed: (url: string) => Promise<void>): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-replay-memory-'));
  const server = await start(dataDir);
  await seed(server.url);
  await server.stop();
  return dataDir;
}

async function bigNotifications(url: string, users: string[], count: number): Promise<void> {
  const text = 'x'.repeat(BIG);
  for (let n = 0; n < count; n++) for (const user of users) await publish(url, [{ user_id: user, type: 'new_notification', payload: { n, text } }]);
}

async function smallEvents(url: string, user: string, count: number): Promise<void> {
  for (let n = 0; n < count; n += 1000) {
    const size = Math.min(1000, count - n);
    await publish(url, Array.from({ length: size }, (_, i) => ({ user_id: user, type: 'task_update', payload: { n: n + i, action: 'moved', column: 'done' } })));
  }
}

/** A tab of `user` from `since`; `onMessage` sees every frame. */
async function tab(server: Server, user: string, since: number | undefined, onMessage: (data: Buffer) => void = () => {}): Promise<WebSocket> {
  const query = new URLSearchParams({ token: await mintToken(BENCH_SECRET, user, '1h'), ...(since !== undefined && { since: String(since) }) });
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws/notifications?${query}`, { perMessageDeflate: false });
  ws.on('message', onMessage);
  ws.on('error', () => {});
  await new Promise((open, fail) => (ws.once('open', open), ws.once('error', fail)));
  return ws;
}

/** A reading tab of a user with no stored events: how long an event published for it now takes to arrive. */
async function bystander(server: Server): Promise<() => Promise<number | null>> {
  let arrived: (() => void) | undefined;
  await tab(server, 'bystander', undefined, (data) => data.includes('"probe"') && arrived?.());
  return async () => {
    const sent = performance.now();
    const received = new Promise<boolean>((done) => {
      arrived = () => done(true);
      setTimeout(() => done(false), 30_000);
    });
    await publish(server.url, [{ user_id: 'bystander', type: 'task_update', payload: { probe: true } }]).catch(() => {});
    return (await received) ? Math.round(performance.now() - sent) : null;
  };
}

async function healthz(server: Server): Promise<boolean> {
  return fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.ok, () => false);
}

/** Runs `attack` against a fresh server on `dataDir` and watches it for `seconds`: peak RSS, still alive, a bystander's event. */
async function underAttack(dataDir: string, attack: (server: Server) => Promise<void>, seconds = 15): Promise<Record<string, unknown>> {
  const server = await start(dataDir);
  const probe = await bystander(server);
  const startRssMiB = status(server.pid, 'VmRSS');
  let ended: string | null = null;
  void server.exited.then((how) => (ended = how));
  // Sampled while it runs too: a process that dies takes its VmHWM with it.
  let peak = 0;
  const sampling = setInterval(() => (peak = Math.max(peak, status(server.pid, 'VmHWM'))), 100);
  await attack(server);
  await new Promise((wait) => setTimeout(wait, (seconds * 1000) / 2));
  const bystanderMs = ended === null ? await probe() : null;
  await new Promise((wait) => setTimeout(wait, (seconds * 1000) / 2));
  clearInterval(sampling);
  const peakRssMiB = Math.round(Math.max(peak, status(server.pid, 'VmHWM')));
  const result = { startRssMiB: Math.round(startRssMiB), peakRssMiB, alive: ended === null && (await healthz(server)), ended, bystanderMs, loadAverage: loadavg() };
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
  return result;
}

/** Tabs that resume from 0 and never read: the socket is paused as soon as it is open (a server that died opens no more). */
async function stalledTabs(server: Server, users: string[], perUser: number): Promise<void> {
  for (const user of users) {
    for (let n = 0; n < perUser; n++) {
      const opened = await tab(server, user, 0).catch(() => undefined);
      if (!opened) return;
      opened.pause();
    }
  }
}

/** GETs of the first page on raw sockets that never read a byte of the answer. */
async function stalledLists(server: Server, user: string, count: number): Promise<void> {
  const token = await mintToken(BENCH_SECRET, user, '1h');
  const { port } = new URL(server.url);
  for (let n = 0; n < count; n++) {
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => {});
    socket.write(`GET /notifications?limit=100 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    socket.pause();
  }
}

/** A tab that resumes from 0 and reads until it has all `events` (after its `connected` frame), then leaves. */
async function replayOnce(server: Server, user: string, events: number): Promise<void> {
  let frames = 0;
  let all: () => void = () => {};
  const received = new Promise<void>((done) => (all = done));
  const ws = await tab(server, user, 0, () => ++frames === events + 1 && all());
  await Promise.race([received, new Promise((gone) => ws.once('close', gone))]);
  ws.terminate();
}

/** Three tabs replay 100,000 events again and again while /healthz and another user's deliveries are timed. */
async function fairness(dataDir: string, events: number, seconds: number): Promise<Record<string, unknown>> {
  const server = await start(dataDir);
  const probe = await bystander(server);
  const deadline = Date.now() + seconds * 1000;
  let replays = 0;
  const replayer = async (): Promise<void> => {
    while (Date.now() < deadline) {
      await replayOnce(server, 'big', events);
      replays++;
    }
  };
  const health: number[] = [];
  const deliveries: (number | null)[] = [];
  const watch = async (): Promise<void> => {
    while (Date.now() < deadline) {
      const sent = performance.now();
      if (await healthz(server)) health.push(performance.now() - sent);
      if (health.length % 5 === 0) deliveries.push(await probe());
      await new Promise((wait) => setTimeout(wait, 50));
    }
  };
  const cpuBefore = processCpuSeconds(server.pid) * 1000;
  await Promise.all([replayer(), replayer(), replayer(), watch()]);
  const serverCpuMs = processCpuSeconds(server.pid) * 1000 - cpuBefore;
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
  const sorted = health.sort((a, b) => a - b);
  const delivered = deliveries.filter((ms): ms is number => ms !== null).sort((a, b) => a - b);
  return {
    seconds,
    replays,
    serverCpuMs: Math.round(serverCpuMs),
    healthzMs: { count: sorted.length, p50: Math.round(percentile(sorted, 50)), p99: Math.round(percentile(sorted, 99)), max: Math.round(sorted.at(-1) ?? 0) },
    bystanderMs: { count: deliveries.length, lost: deliveries.length - delivered.length, p50: percentile(delivered, 50), p99: percentile(delivered, 99), max: delivered.at(-1) },
    loadAverage: loadavg(),
  };
}

/** One tab replays `events` small events `times` times in turn: wall time and the server's CPU per replay. */
async function replayCost(dataDir: string, events: number, times: number): Promise<Record<string, unknown>> {
  const server = await start(dataDir);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let n = 0; n < times; n++) {
    const cpuBefore = processCpuSeconds(server.pid) * 1000;
    const began = performance.now();
    await replayOnce(server, 'replay', events);
    wall.push(performance.now() - began);
    cpu.push(processCpuSeconds(server.pid) * 1000 - cpuBefore);
  }
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
  const median = (list: number[]): number => Math.round(percentile([...list].sort((a, b) => a - b), 50));
  return { events, times, wallMs: { median: median(wall), min: Math.round(Math.min(...wall)) }, serverCpuMs: { median: median(cpu), total: Math.round(cpu.reduce((a, b) => a + b, 0)) }, loadAverage: loadavg() };
}

const result: Record<string, unknown> = { date: new Date().toISOString(), label, heraldDir, machine: machine(), loadAverageAtStart: loadavg() };
const users = ['heavy-0', 'heavy-1', 'heavy-2', 'heavy-3'];
for (const phase of phases) {
  console.error(`${label}: ${phase}…`);
  if (phase === 'tabs') result.tabs = await underAttack(await seeded((url) => bigNotifications(url, ['heavy-0'], 300)), (s) => stalledTabs(s, ['heavy-0'], 10));
  if (phase === 'users') result.users = await underAttack(await seeded((url) => bigNotifications(url, users, 75)), (s) => stalledTabs(s, users, 5));
  if (phase === 'lists') result.lists = await underAttack(await seeded((url) => bigNotifications(url, ['heavy-0'], 300)), (s) => stalledLists(s, 'heavy-0', 30));
  if (phase === 'fairness') result.fairness = await fairness(await seeded((url) => smallEvents(url, 'big', 100_000)), 100_000, 30);
  if (phase === 'replay') result.replay = await replayCost(await seeded((url) => smallEvents(url, 'replay', 20_000)), 20_000, 15);
  console.error(JSON.stringify(result[phase]));
}
console.log(JSON.stringify(result, null, 2));
console.error(`written: ${saveResult(`replay-memory-${label}`, result.date as string, result)}`);

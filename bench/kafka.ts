/**
 * Kafka-to-socket benchmark. Starts a broker (scripts/kafka.sh, unless HERALD_BENCH_KAFKA_BROKERS is set) and
 * `herald start` on the embedded default with HERALD_KAFKA_BROKERS, opens one socket per user, then
 *   1. produces at a fixed rate for a while and measures produce-to-receive latency (p50, p99, max);
 *   2. stops Herald, fills a second topic with a backlog, starts Herald on it (same data, the tabs resume after
 *      their last seq) and measures records stored and delivered per second, first delivery to last, with
 *      Herald's CPU over that stretch (in cores, and per record), this process's (the sockets' side), and the
 *      longest the event loop was held meanwhile, and how long the tabs took to reconnect while it drained.
 *
 *   npx tsx bench/kafka.ts [users=200] [rate=1000] [seconds=10] [backlog=20000]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, Producer, ProduceAcks, stringSerializers } from '@platformatic/kafka';
import WebSocket from 'ws';
import { mintToken } from '../packages/server/src/auth/mint-token.js';
import { BENCH_SECRET, percentile, processCpuSeconds, startHerald } from './herald-process.js';
import { machine, saveResult } from './result-file.js';

const [users = 200, rate = 1000, seconds = 10, backlog = 20_000] = process.argv.slice(2).map(Number);
const topic = `bench-${Date.now()}`;

function startBroker(): { brokers: string; stop: () => void } {
  if (process.env['HERALD_BENCH_KAFKA_BROKERS']) return { brokers: process.env['HERALD_BENCH_KAFKA_BROKERS'], stop: () => {} };
  const env = { ...process.env, KAFKA_PORT: '29092', KAFKA_DATA_DIR: mkdtempSync(join(tmpdir(), 'herald-bench-kafka-')) };
  const out = execFileSync('scripts/kafka.sh', ['start'], { env, encoding: 'utf8' });
  return { brokers: /KAFKA_BROKERS=(\S+)/.exec(out)![1]!, stop: () => execFileSync('scripts/kafka.sh', ['stop'], { env }) };
}

/** The event loop's longest delay since the last read of Herald's /metrics, in ms. */
async function loopDelayMaxMs(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
  if (!match) throw new Error('no nodejs_eventloop_lag_max_seconds in /metrics');
  return Math.round(Number(match[1]) * 1000);
}

interface Tab {
  ws: WebSocket;
  lastSeq: number;
}

async function main(): Promise<void> {
  const broker = startBroker();
  const admin = new Admin({ clientId: 'bench', bootstrapBrokers: broker.brokers.split(',') });
  const backlogTopic = `${topic}-backlog`;
  await admin.createTopics({ topics: [topic, backlogTopic], partitions: 3, replicas: 1 });
  await admin.close();
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-bench-kafka-data-'));
  const heraldEnv = (consumed: string) => ({
    HERALD_KAFKA_BROKERS: broker.brokers,
    HERALD_KAFKA_TOPIC: consumed,
    HERALD_KAFKA_GROUP: `${consumed}-group`,
    HERALD_MAX_CONNECTIONS_PER_ADDRESS: String(users + 10),
    HERALD_DATA_DIR: dataDir,
  });
  let herald = await startHerald(heraldEnv(topic));

  let received = 0;
  let firstAt = 0;
  let lastAt = 0;
  // Herald's and this process's CPU time when the first record of a phase arrives.
  let cpuAtFirst = { herald: 0, bench: 0 };
  const cpuNow = () => {
    const own = process.cpuUsage();
    return { herald: processCpuSeconds(herald.pid), bench: (own.user + own.system) / 1e6 };
  };
  let latencies: number[] = [];
  let onReceive = (): void => {};
  const tokens = await Promise.all(Array.from({ length: users }, (_, index) => mintToken(BENCH_SECRET, `user-${index}`)));
  /** One tab per user; a tab opened again resumes after the last seq it saw, so that every event is counted once. */
  const open = (tab: Tab | undefined, index: number): Promise<Tab> => {
    const since = tab ? `&since=${tab.lastSeq}` : '';
    const ws = new WebSocket(`${herald.url.replace('http', 'ws')}/ws/notifications?token=${tokens[index]}${since}`, { perMessageDeflate: false });
    const opened: Tab = { ws, lastSeq: tab?.lastSeq ?? 0 };
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      const at = text.indexOf('"sent":');
      if (at < 0) return;
      const now = Date.now();
      latencies.push(now - Number(text.slice(at + 7, text.indexOf('}', at))));
      const seq = /"seq":(\d+)/.exec(text);
      if (seq) opened.lastSeq = Math.max(opened.lastSeq, Number(seq[1]));
      if (!firstAt) {
        firstAt = now;
        cpuAtFirst = cpuNow();
      }
      lastAt = now;
      received++;
      onReceive();
    });
    return new Promise((resolve, reject) => ws.once('open', () => resolve(opened)).once('error', reject));
  };
  let tabs = await Promise.all(Array.from({ length: users }, (_, index) => open(undefined, index)));
  const producer = new Producer({ clientId: 'bench', bootstrapBrokers: broker.brokers.split(','), serializers: stringSerializers, acks: ProduceAcks.LEADER });
  const record = (to: string, n: number) => {
    const user = `user-${n % users}`;
    return { topic: to, key: user, value: JSON.stringify({ user_id: user, type: 'new_notification', payload: { n, sent: Date.now() } }) };
  };
  const waitFor = (count: number) => new Promise<void>((resolve) => {
    onReceive = () => received >= count && resolve();
    onReceive();
  });

  // Not measured: one record through before the clock starts, so that the consumer group's join and the first
  // fetch (a second or more after start) are not counted as the first records' latency.
  await producer.send({ messages: [record(topic, 0)] });
  await waitFor(1);
  received = 0;
  latencies = [];

  // 1. Fixed rate: one produce call every 10 ms with rate/100 records.
  const perTick = Math.max(1, Math.round(rate / 100));
  let sent = 0;
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const tickStart = Date.now();
    await producer.send({ messages: Array.from({ length: perTick }, () => record(topic, sent++)) });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 10 - (Date.now() - tickStart))));
  }
  await waitFor(sent);
  latencies.sort((a, b) => a - b);
  const fixedRate = { offeredPerSecond: Math.round(sent / seconds), records: sent, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) };

  // 2. Backlog: records waiting in a topic before Herald consumes it (a node restarted after an outage), timed
  // from the first record delivered to the last, so that start-up and the group join are not counted.
  for (const tab of tabs) tab.ws.terminate();
  await herald.stop();
  for (let offset = 0; offset < backlog; offset += 1000) {
    await producer.send({ messages: Array.from({ length: Math.min(1000, backlog - offset) }, (_, index) => record(backlogTopic, offset + index)) });
  }
  latencies = [];
  received = 0;
  firstAt = lastAt = 0;
  herald = await startHerald(heraldEnv(backlogTopic));
  // Read once so that the event loop's delay histogram starts over (prom-client resets it on every read).
  await loopDelayMaxMs(herald.url);
  const reconnectStart = Date.now();
  tabs = await Promise.all(tabs.map((tab, index) => open(tab, index)));
  // How long every tab took to be back while the node drains: what a user reconnecting meanwhile waits for.
  const reconnectMs = Date.now() - reconnectStart;
  await waitFor(backlog);
  const cpuAtLast = cpuNow();
  const longestLoopHoldMs = await loopDelayMaxMs(herald.url);
  // Where the drain's limit is: Herald's CPU over the drain, in cores (1 is one core's worth, the most its event
  // loop can use) and per record; the sockets' side (this process) shares the machine with it and the broker.
  const drainSeconds = Math.max(0.001, (lastAt - firstAt) / 1000);
  const heraldCpuSeconds = cpuAtLast.herald - cpuAtFirst.herald;
  const throughput = {
    records: backlog,
    perSecond: Math.round(backlog / drainSeconds),
    heraldCores: Number((heraldCpuSeconds / drainSeconds).toFixed(2)),
    heraldCpuMicrosecondsPerRecord: Math.round((heraldCpuSeconds * 1e6) / backlog),
    receiverCores: Number(((cpuAtLast.bench - cpuAtFirst.bench) / drainSeconds).toFixed(2)),
    // The longest the event loop was held during the drain: what a tab's ping or an HTTP request could wait.
    longestLoopHoldMs,
    reconnectMs,
  };

  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    users,
    fixedRate,
    throughput,
  };
  for (const tab of tabs) tab.ws.terminate();
  await producer.close();
  await herald.stop();
  broker.stop();
  saveResult('kafka', result.date, result);
  console.log(JSON.stringify(result, null, 2));
}

await main();

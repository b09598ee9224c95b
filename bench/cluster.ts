/**
 * Cluster benchmark: the same load on one Herald node without Redis, one node in cluster mode, and two nodes in
 * cluster mode, all on PostgreSQL and on this one machine. USERS users each hold TABS tabs; in the two-node run
 * a user's tabs alternate between the nodes (so most users sit on both) and publish batches alternate too, so
 * events cross Redis. Measures deliveries per second and Redis messages (published + received, every node) per
 * delivery, from the nodes' own /metrics.
 *
 *   npx tsx bench/cluster.ts [users=2000] [tabs=2] [rounds=5] [batch=250]
 *
 * PostgreSQL: HERALD_TEST_DATABASE_URL, else an embedded server. Redis: HERALD_TEST_REDIS_URL, else Debian's
 * redis-server on a free port.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import WebSocket from 'ws';
import { mintToken } from '../packages/server/src/auth/mint-token.js';
import { startRedisServer } from '../packages/server/test/helpers/redis-server.js';
import { withPostgres } from './bench-postgres.js';
import { BENCH_API_KEY, BENCH_SECRET, startHerald, type BenchServer } from './herald-process.js';
import { machine, saveResult } from './result-file.js';

const [users = 2000, tabs = 2, rounds = 5, batch = 250] = process.argv.slice(2).map(Number);

interface Run {
  setup: string;
  nodes: number;
  deliveries: number;
  seconds: number;
  deliveriesPerSecond: number;
  redisMessages: number;
  redisMessagesPerDelivery: number;
}

async function metric(url: string, name: string, label?: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && (label === undefined || line.includes(label))) sum += Number(line.split(' ').at(-1));
    else if (line.startsWith(`${name} `)) sum += Number(line.split(' ').at(-1));
  }
  return sum;
}

async function redisMessages(servers: readonly BenchServer[]): Promise<number> {
  const counts = await Promise.all(servers.map((server) => metric(server.url, 'herald_redis_messages_total')));
  return counts.reduce((sum, count) => sum + count, 0);
}

async function runSetup(setup: string, nodes: number, env: Record<string, string>): Promise<Run> {
  const servers: BenchServer[] = [];
  for (let index = 0; index < nodes; index++) {
    servers.push(await startHerald({ ...env, HERALD_MAX_CONNECTIONS_PER_ADDRESS: String(users * tabs + 10) }));
  }
  const sockets: WebSocket[] = [];
  let received = 0;
  let onReceived: () => void = () => {};
  try {
    for (let start = 0; start < users; start += 100) {
      const group = Array.from({ length: Math.min(100, users - start) }, async (_, offset) => {
        const user = start + offset;
        const token = await mintToken(BENCH_SECRET, `user-${user}`, '1h');
        for (let tab = 0; tab < tabs; tab++) {
          const server = servers[(user + tab) % servers.length]!;
          const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws/notifications?token=${token}`, { perMessageDeflate: false });
          // Live once `connected` arrives: the node has subscribed to the user (cluster mode) before sending it.
          const live = new Promise((resolve, reject) => {
            ws.once('message', resolve);
            ws.once('error', reject);
          });
          ws.on('message', (data: Buffer) => {
            if (!data.includes('"seq":')) return;
            received++;
            onReceived();
          });
          await live;
          sockets.push(ws);
        }
      });
      await Promise.all(group);
    }
    const messagesBefore = await redisMessages(servers);
    const expected = users * tabs * rounds;
    const done = new Promise<void>((resolve) => {
      onReceived = () => {
        if (received >= expected) resolve();
      };
    });
    const started = performance.now();
    let turn = 0;
    for (let round = 0; round < rounds; round++) {
      // Two publishers at once, each on its own node when there are two: both nodes store and route.
      const batches: Array<Array<Record<string, unknown>>> = [];
      for (let start = 0; start < users; start += batch) {
        batches.push(
          Array.from({ length: Math.min(batch, users - start) }, (_, offset) => ({
            user_id: `user-${start + offset}`,
            type: 'new_notification',
            payload: { round },
          })),
        );
      }
      await Promise.all(
        [0, 1].map(async (lane) => {
          for (let index = lane; index < batches.length; index += 2) {
            const server = servers[turn++ % servers.length]!;
            const response = await fetch(`${server.url}/publish`, {
              method: 'POST',
              headers: { authorization: `Bearer ${BENCH_API_KEY}`, 'content-type': 'application/json' },
              body: JSON.stringify(batches[index]),
            });
            if (response.status !== 200) throw new Error(`publish failed: ${response.status} ${await response.text()}`);
          }
        }),
      );
    }
    await done;
    const seconds = (performance.now() - started) / 1000;
    // Publish replies and a node's own echoes may still be on their way after the last delivery: let them settle.
    let settled = await redisMessages(servers);
    for (let previous = -1; settled !== previous; ) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      previous = settled;
      settled = await redisMessages(servers);
    }
    const redis = settled - messagesBefore;
    return {
      setup,
      nodes,
      deliveries: expected,
      seconds: +seconds.toFixed(2),
      deliveriesPerSecond: Math.round(expected / seconds),
      redisMessages: redis,
      redisMessagesPerDelivery: +(redis / expected).toFixed(3),
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await Promise.all(servers.map((server) => server.stop()));
  }
}

async function withRedis<T>(use: (url: string) => Promise<T>): Promise<T> {
  const external = process.env.HERALD_TEST_REDIS_URL;
  if (external !== undefined && external !== '') return use(external);
  const server = await startRedisServer();
  try {
    return await use(server.url);
  } finally {
    await server.remove();
  }
}

/** A new database on the server, for one run: every run starts with empty streams. */
async function freshDatabase(serverUrl: string): Promise<string> {
  const name = `herald_bench_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function main(): Promise<void> {
  const runs = await withPostgres((postgres) =>
    withRedis(async (redis) => {
      const results: Run[] = [];
      const cluster = async (): Promise<Record<string, string>> => ({
        HERALD_DATABASE_URL: await freshDatabase(postgres),
        HERALD_REDIS_URL: redis,
        HERALD_REDIS_KEY_PREFIX: `bench-${randomBytes(4).toString('hex')}:`,
      });
      results.push(await runSetup('one node, no Redis', 1, { HERALD_DATABASE_URL: await freshDatabase(postgres) }));
      results.push(await runSetup('one node, cluster mode', 1, await cluster()));
      results.push(await runSetup('two nodes, cluster mode', 2, await cluster()));
      return results;
    }),
    // Two nodes' pools and the bench's own clients: more than PostgreSQL's default 100 connections.
    ['-c', 'max_connections=200'],
  );
  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    users,
    tabs,
    rounds,
    batch,
    runs,
  };
  saveResult('cluster', result.date, result);
  console.log(JSON.stringify(result, null, 2));
}

await main();

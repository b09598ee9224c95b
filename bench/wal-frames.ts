/**
 * WAL frames (pages) that Store.append writes per notification on SQLite: what a commit costs in writes, which is
 * what a schema's indexes decide. Fills a SQLite file with USERS users of 5 notifications each, then appends in
 * commits of 20 notifications to random users (as a steady publish rate makes) and commits of 1,000 (a burst),
 * and prints frames and CPU per notification for each.
 *
 *   npx tsx bench/wal-frames.ts [users=10000] [repeats=10]
 *
 * Each measured stretch starts from an empty WAL (a TRUNCATE checkpoint from a second connection) and stays under
 * the store's automatic checkpoint (10,000 pages), so the WAL's frame count is what the stretch wrote.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { createStore } from '../packages/server/src/store/create-store.js';
import type { AppendInput, Store } from '../packages/server/src/store/store.js';
import { machine, saveResult } from './result-file.js';

const [users = 10_000, repeats = 10] = process.argv.slice(2).map(Number);
const PREFILL_PER_USER = 5;
/** Commits per measured stretch: 60 x 20 and 1 x 1,000 stay well under 10,000 frames at ~6 frames each. */
const phases = [
  { name: '20 a commit, random users', commits: 60, size: 20 },
  { name: '1,000 a commit, random users', commits: 1, size: 1000 },
];

let counter = 0;
function inputs(count: number): AppendInput[] {
  return Array.from({ length: count }, () => ({
    userId: `user-${Math.floor(Math.random() * users)}`,
    type: 'new_notification' as const,
    key: null,
    payload: { title: 'Order shipped', body: `Order ${counter++} is on its way`, url: '/orders/42' },
  }));
}

async function prefill(store: Store): Promise<void> {
  for (let round = 0; round < PREFILL_PER_USER; round++) {
    for (let start = 0; start < users; start += 1000) {
      await store.append(
        Array.from({ length: Math.min(1000, users - start) }, (_, i) => ({
          userId: `user-${start + i}`,
          type: 'new_notification' as const,
          key: null,
          payload: { title: 'Welcome', body: `Notification ${round}`, url: '/' },
        })),
      );
    }
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-wal-frames-'));
  const path = join(dir, 'herald.db');
  const store = createStore(path);
  const probe = new BetterSqlite3(path);
  const frames = (mode: 'TRUNCATE' | 'PASSIVE'): number => (probe.pragma(`wal_checkpoint(${mode})`) as { log: number }[])[0]!.log;
  const results = [];
  try {
    await store.migrate();
    await prefill(store);
    for (const phase of phases) {
      let written = 0;
      let cpuMicros = 0;
      let wallMs = 0;
      for (let repeat = 0; repeat < repeats; repeat++) {
        frames('TRUNCATE');
        const batches = Array.from({ length: phase.commits }, () => inputs(phase.size));
        const cpu = process.cpuUsage();
        const start = performance.now();
        for (const batch of batches) await store.append(batch);
        wallMs += performance.now() - start;
        const used = process.cpuUsage(cpu);
        cpuMicros += used.user + used.system;
        written += frames('PASSIVE');
      }
      const notifications = phase.commits * phase.size * repeats;
      const result = {
        phase: phase.name,
        notifications,
        walFramesPerNotification: +(written / notifications).toFixed(2),
        cpuMicrosPerNotification: +(cpuMicros / notifications).toFixed(1),
        notificationsPerSecond: Math.round(notifications / (wallMs / 1000)),
      };
      results.push(result);
      console.log(
        `${phase.name.padEnd(30)} ${String(result.walFramesPerNotification).padStart(5)} WAL frames, ` +
          `${result.cpuMicrosPerNotification} µs CPU per notification, ${result.notificationsPerSecond} notifications/s`,
      );
    }
  } finally {
    probe.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const date = new Date().toISOString();
  const file = saveResult('wal-frames', date, {
    date,
    label: process.env.BENCH_LABEL ?? null,
    machine: machine(),
    users,
    prefillPerUser: PREFILL_PER_USER,
    repeats,
    results,
  });
  console.log(`written to ${file}`);
}

await main();

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BackgroundCheckpoint } from '../../src/store/background-checkpoint.js';
import { createStore } from '../../src/store/create-store.js';
import type { AppendInput } from '../../src/store/store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-checkpoint-'));
  dirs.push(dir);
  return join(dir, 'herald.db');
}

function notifications(count: number): AppendInput[] {
  return Array.from({ length: count }, (_, i) => ({ userId: `user-${i}`, type: 'new_notification' as const, key: null, payload: { n: i } }));
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return condition();
}

describe('the background checkpoint of a SQLite store', () => {
  it('copies committed pages into the database file long before the WAL reaches the main connection’s bound', async () => {
    const path = tempPath();
    const store = createStore(path);
    try {
      await store.migrate();
      const migrated = statSync(path).size;
      // ~2,000 notifications write a few hundred pages: far below the 10,000 at which the main connection checkpoints.
      await store.append(notifications(2000));
      const grew = await waitFor(() => statSync(path).size > migrated, 5000);
      expect(grew, 'the database file grew while the WAL was far below the automatic checkpoint').toBe(true);
    } finally {
      await store.close();
    }
  });

  it('ends with the store, and what it copied reads back whole from a new store on the file', async () => {
    const path = tempPath();
    const first = createStore(path);
    await first.migrate();
    await first.append(notifications(500));
    await new Promise((resolve) => setTimeout(resolve, 600));
    await first.append(notifications(500));
    await first.close();

    const second = createStore(path);
    try {
      await second.migrate();
      const list = await second.listNotifications('user-7', { status: 'all', limit: 10 });
      expect(list.items.map((item) => item.payload)).toEqual([{ n: 7 }, { n: 7 }]);
    } finally {
      await second.close();
    }
  });

  it('is not started for an in-memory database, which has no file to copy into', async () => {
    const store = createStore(':memory:');
    await store.migrate();
    await store.append(notifications(10));
    await store.close();
  });

  it('reports a failure it cannot get past (here: no file to open), and still stops', async () => {
    const failures: string[] = [];
    const checkpoint = new BackgroundCheckpoint(join(tempPath(), 'missing', 'herald.db'), (reason) => failures.push(reason), 20);
    expect(await waitFor(() => failures.length > 0, 5000)).toBe(true);
    expect(failures[0]).toMatch(/directory does not exist|unable to open|no such file/i);
    await checkpoint.stop();
  });
});

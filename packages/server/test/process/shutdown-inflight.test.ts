import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/mint-token.js';
import { databaseKinds, dropDatabase, freshPostgresUrl, type DatabaseKind } from '../helpers/databases.js';
import { startHerald } from '../helpers/herald-process.js';
import { TestClient } from '../helpers/ws-client.js';
import { pgClient } from '../helpers/pg-client.js';

const SECRET = 'shutdown-test-secret-long-enough-for-hs256';
const API_KEY = 'shutdown-test-api-key-0123456789';
/** Publishers that each keep one request in flight, so that SIGTERM always finds requests under way. */
const PUBLISHERS = 12;
/** Acknowledged publishes before SIGTERM: the server is busy by then. */
const ACKED_BEFORE_SIGTERM = 60;
/** A publisher that never meets a refusal stops here, and the test fails on the server not having stopped. */
const MAX_REQUESTS_EACH = 1000;

interface Outcome {
  /** The idempotency keys of the request's items, which are also the stored events' keys. */
  keys: string[];
  status: number | 'network error';
  body?: any;
}

interface EventRow {
  user_id: string;
  seq: number;
  type: string;
  key: string | null;
}

interface NotificationRow {
  id: string;
  user_id: string;
  seq: number;
  key: string | null;
}

interface Rows {
  events: EventRow[];
  notifications: NotificationRow[];
  streams: Array<{ user_id: string; last_seq: number }>;
}

/** Reads every table straight from the database the process used, after it exited. */
async function readDatabase(kind: DatabaseKind, databaseUrl: string): Promise<Rows> {
  const queries = {
    events: 'SELECT user_id, seq, type, key FROM events ORDER BY user_id, seq',
    notifications: 'SELECT id, user_id, seq, key FROM notifications ORDER BY user_id, seq',
    streams: 'SELECT user_id, last_seq FROM user_streams ORDER BY user_id',
  };
  if (kind === 'sqlite') {
    const db = new BetterSqlite3(databaseUrl, { fileMustExist: true });
    try {
      return {
        events: db.prepare(queries.events).all() as EventRow[],
        notifications: db.prepare(queries.notifications).all() as NotificationRow[],
        streams: db.prepare(queries.streams).all() as Rows['streams'],
      };
    } finally {
      db.close();
    }
  }
  const client = pgClient(databaseUrl);
  await client.connect();
  try {
    return {
      events: (await client.query<EventRow>(queries.events)).rows,
      notifications: (await client.query<NotificationRow>(queries.notifications)).rows,
      streams: (await client.query<Rows['streams'][number]>(queries.streams)).rows,
    };
  } finally {
    await client.end();
  }
}

describe.each(databaseKinds)('SIGTERM while publishes are in flight (%s)', (kind) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('stores every acknowledged publish whole, half-stores none, and closes open tabs with 1012', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'herald-shutdown-'));
    cleanups.push(() => rmSync(cwd, { recursive: true, force: true }));
    const databaseUrl = kind === 'sqlite' ? join(cwd, 'data', 'herald.db') : await freshPostgresUrl();
    if (kind === 'postgres') cleanups.push(() => dropDatabase(databaseUrl));

    const { child, url } = await startHerald(cwd, {
      HERALD_DATABASE_URL: databaseUrl,
      HERALD_JWT_SECRET: SECRET,
      HERALD_API_KEY: API_KEY,
      HERALD_LOG_LEVEL: 'info',
      HERALD_SHUTDOWN_TIMEOUT_MS: '5000',
    });
    cleanups.push(() => child.kill('SIGKILL'));
    const wsUrl = `${url.replace(/^http/, 'ws')}/ws/notifications`;

    const run = Math.random().toString(36).slice(2, 8);
    const users = [`sd-${run}-a`, `sd-${run}-b`, `sd-${run}-c`];
    // One tab of a user being published to, one of a user who gets nothing: both must be told to reconnect.
    const tabs = [await TestClient.open(wsUrl, await mintToken(SECRET, users[0]!)), await TestClient.open(wsUrl, await mintToken(SECRET, `sd-${run}-idle`))];
    cleanups.push(async () => void (await Promise.all(tabs.map((tab) => tab.close()))));
    await Promise.all(tabs.map((tab) => tab.waitForType('connected')));

    const outcomes: Outcome[] = [];
    let acked = 0;
    let signalled = false;
    const publisher = async (worker: number): Promise<void> => {
      for (let n = 0; n < MAX_REQUESTS_EACH; n++) {
        // Singles and batches of four, notifications and task updates, spread over the users.
        const size = n % 3 === 0 ? 4 : 1;
        const items = Array.from({ length: size }, (_, index) => {
          const key = `w${worker}-r${n}-i${index}`;
          const user_id = users[(worker + n + index) % users.length]!;
          return index % 2 === 0
            ? { id: key, user_id, type: 'new_notification', payload: { title: key } }
            : { id: key, user_id, type: 'task_update', payload: { action: 'updated', task: { key } } };
        });
        const outcome: Outcome = { keys: items.map((item) => item.id), status: 'network error' };
        outcomes.push(outcome);
        try {
          const response = await fetch(`${url}/publish`, {
            method: 'POST',
            headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
            body: JSON.stringify(size === 1 ? items[0] : items),
          });
          outcome.status = response.status;
          outcome.body = await response.json().catch(() => undefined);
        } catch {
          // Refused or cut off by the stopping server: not acknowledged, so it may or may not be stored.
        }
        if (outcome.status !== 200) return;
        acked++;
        if (acked >= ACKED_BEFORE_SIGTERM && !signalled) {
          // Every other publisher has a request in flight right now.
          signalled = true;
          child.kill('SIGTERM');
        }
      }
    };
    await Promise.all(Array.from({ length: PUBLISHERS }, (_, worker) => publisher(worker)));

    expect(signalled).toBe(true);
    // A bound only to fail with a message instead of at the test timeout: the drain itself is bounded by
    // HERALD_SHUTDOWN_TIMEOUT_MS, and nothing else should keep a stopping server up.
    const exited = await Promise.race([child.exited, new Promise<'still running'>((resolve) => setTimeout(resolve, 12_000, 'still running'))]);
    expect(exited, 'herald exits after SIGTERM').toEqual({ code: 0, signal: null });
    for (const tab of tabs) expect((await tab.closed).code).toBe(1012);
    // What the server answered other than 200 while stopping: 503, or the connection closed.
    const refusals = outcomes.filter((outcome) => outcome.status !== 200);
    expect(refusals.length).toBeGreaterThan(0);
    for (const outcome of refusals) expect([503, 'network error']).toContain(outcome.status);

    const rows = await readDatabase(kind, databaseUrl);
    const eventByKey = new Map(rows.events.map((row) => [row.key, row]));
    const notificationByKey = new Map(rows.notifications.map((row) => [row.key, row]));

    // Every acknowledged publish is stored, item for item, under the seq and notification id it was answered with.
    const acknowledged = outcomes.filter((outcome) => outcome.status === 200);
    expect(acknowledged.length).toBeGreaterThanOrEqual(ACKED_BEFORE_SIGTERM);
    for (const outcome of acknowledged) {
      expect(outcome.body.stored).toBe(outcome.keys.length);
      outcome.keys.forEach((key, index) => {
        const answered = outcome.body.events[index];
        expect(eventByKey.get(key)).toMatchObject({ user_id: answered.user_id, seq: answered.seq, type: answered.type });
        if (answered.type === 'new_notification') {
          expect(notificationByKey.get(key)).toMatchObject({ id: answered.notification_id, seq: answered.seq });
        }
      });
    }

    // A request is one transaction: all of its items stored, or none (whatever the client was told).
    for (const outcome of outcomes) {
      const stored = outcome.keys.filter((key) => eventByKey.has(key));
      expect([0, outcome.keys.length]).toContain(stored.length);
    }

    // No notification without its event and no new_notification event without its notification.
    const eventAt = new Set(rows.events.map((row) => `${row.user_id}/${row.seq}`));
    for (const notification of rows.notifications) expect(eventAt.has(`${notification.user_id}/${notification.seq}`)).toBe(true);
    const notificationAt = new Set(rows.notifications.map((row) => `${row.user_id}/${row.seq}`));
    const newNotifications = rows.events.filter((row) => row.type === 'new_notification');
    for (const event of newNotifications) expect(notificationAt.has(`${event.user_id}/${event.seq}`)).toBe(true);
    expect(rows.notifications).toHaveLength(newNotifications.length);

    // Each user's stream is 1..last_seq with no hole, and its counter says the same.
    for (const stream of rows.streams) {
      const userSeqs = rows.events.filter((row) => row.user_id === stream.user_id).map((row) => row.seq);
      expect(userSeqs).toEqual(Array.from({ length: stream.last_seq }, (_, index) => index + 1));
    }
    expect(rows.streams.map((stream) => stream.user_id).sort()).toEqual([...new Set(rows.events.map((row) => row.user_id))].sort());

    // The tab of the user being published to saw a gapless run from the head it started at.
    const [connected] = tabs[0]!.frames.filter((frame) => frame.type === 'connected');
    const seen = tabs[0]!.events.map((event) => event.seq);
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, index) => connected!.payload.seq + index + 1));
  }, 40_000);
});

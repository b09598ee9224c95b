/**
 * Upgrading a database that an earlier release of Herald made.
 *
 * Each folder test/fixtures/schema-NNNN/ holds what a Herald whose newest migration was NNNN left behind: a SQLite
 * file, a PostgreSQL dump, and a manifest of every row in each (see fixtures/make-fixtures.ts). This test opens a
 * copy of each with the current code, runs the current migrations over it, and checks that every user's stream,
 * head seq, inbox and read state are exactly what the old release stored, and that new writes go on from there.
 *
 * EVERY LATER MIGRATION MUST PASS THIS TEST, with these fixtures and this test unchanged. A migration that makes it
 * fail loses or changes what users already have: fix the migration, not the fixture. Never regenerate or edit a
 * folder that shipped; when a release with a new schema ships, make-fixtures.ts writes a new folder beside the
 * others, and this test picks it up.
 */
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/create-store.js';
import { migrationProvider } from '../../src/store/migrations/index.js';
import type { AppendInput, Store } from '../../src/store/store.js';
import type { FixtureManifest, FixtureRow } from '../fixtures/fixture-manifest.js';
import { dropDatabase, freshPostgresUrl, freshSqlitePath, type DatabaseKind } from '../helpers/databases.js';

const fixturesDir = new URL('../fixtures/', import.meta.url).pathname;
const folders = readdirSync(fixturesDir).filter((name) => /^schema-\d{4}$/.test(name)).sort();

const FILES: Record<DatabaseKind, { data: string; manifest: string }> = {
  sqlite: { data: 'herald.db', manifest: 'sqlite.manifest.json' },
  postgres: { data: 'herald.sql', manifest: 'postgres.manifest.json' },
};

/** A database of `kind` holding a copy of the fixture: the file copied, or the dump loaded into a fresh database. */
async function restore(folder: string, kind: DatabaseKind): Promise<string> {
  const source = join(fixturesDir, folder, FILES[kind].data);
  if (kind === 'sqlite') {
    const path = freshSqlitePath();
    copyFileSync(source, path);
    return path;
  }
  const url = await freshPostgresUrl();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(readFileSync(source, 'utf8'));
  } finally {
    await client.end();
  }
  return url;
}

/** The migrations recorded in the database, read with Kysely's own Migrator beside the store. */
async function recordedMigrations(kind: DatabaseKind, url: string): Promise<Map<string, string | undefined>> {
  const dialect =
    kind === 'sqlite'
      ? new SqliteDialect({ database: new BetterSqlite3(url) })
      : new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) });
  const db = new Kysely<unknown>({ dialect });
  try {
    const migrations = await new Migrator({ db, provider: migrationProvider }).getMigrations();
    return new Map(migrations.map((migration) => [migration.name, migration.executedAt?.toISOString()]));
  } finally {
    await db.destroy();
  }
}

function rowsOf(rows: readonly FixtureRow[], userId: string): FixtureRow[] {
  return rows.filter((row) => row['user_id'] === userId);
}

function parsed(row: FixtureRow): Record<string, unknown> {
  return JSON.parse(row['payload'] as string) as Record<string, unknown>;
}

/** The inbox item the Store should list for a notifications row. */
function listed(row: FixtureRow): unknown {
  return {
    id: row['id'],
    key: row['key'],
    status: row['status'],
    created_at: row['created_at'],
    read_at: row['read_at'],
    payload: parsed(row),
  };
}

/** Checks a user's whole stream, head, inbox and read state against the manifest, through the Store only. */
async function expectUserAsStored(store: Store, manifest: FixtureManifest, userId: string, head: number): Promise<void> {
  const events = rowsOf(manifest.events, userId);
  expect(events.map((row) => row['seq']), `${userId}: the fixture's own stream is gapless`).toEqual(
    Array.from({ length: head }, (_, index) => index + 1),
  );
  expect(await store.headSeq(userId)).toBe(head);

  const expectedEvents = events.map((row) => ({ seq: row['seq'], type: row['type'], payload: parsed(row), createdAt: row['created_at'] }));
  const stream = await store.eventsAfter(userId, 0, 1000);
  expect(stream.map(({ userId: owner, seq, type, payload, createdAt }) => ({ owner, seq, type, payload, createdAt }))).toEqual(
    expectedEvents.map((event) => ({ owner: userId, ...event })),
  );
  // A resume from the middle reads exactly the tail, a page at a time.
  const middle = Math.floor(head / 2);
  expect((await store.eventsAfter(userId, middle, 2)).map((event) => event.seq)).toEqual(
    expectedEvents.slice(middle, middle + 2).map((event) => event.seq),
  );

  // The inbox, newest first: ids, keys, payloads, read state and timestamps exactly as stored.
  const notifications = rowsOf(manifest.notifications, userId).sort((a, b) => (b['seq'] as number) - (a['seq'] as number));
  expect(await store.listNotifications(userId, { status: 'all', limit: 1000 })).toEqual({
    items: notifications.map(listed),
    nextBeforeSeq: null,
  });
  for (const status of ['unread', 'read'] as const) {
    const page = await store.listNotifications(userId, { status, limit: 1000 });
    expect(page.items, `${userId}: ${status}`).toEqual(notifications.filter((row) => row['status'] === status).map(listed));
  }
  const unread = notifications.filter((row) => row['status'] === 'unread').length;
  expect(await store.unreadCount(userId)).toEqual({ count: unread, headSeq: head });
}

describe.each(folders)('a database of %s', (folder) => {
  let url: string | undefined;
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    if (url !== undefined) await dropDatabase(url);
    store = url = undefined;
  });

  describe.each(['sqlite', 'postgres'] as const)('on %s', (kind) => {
    const manifest = JSON.parse(readFileSync(join(fixturesDir, folder, FILES[kind].manifest), 'utf8')) as FixtureManifest;
    const heads = new Map(manifest.userStreams.map((row) => [row['user_id'] as string, row['last_seq'] as number]));

    it('opens with the current migrations and holds every event, head seq, notification and read state as stored', async () => {
      url = await restore(folder, kind);
      store = createStore(url);
      await store.migrate();

      // The old release's migrations stay recorded as run then (not run again), and every current one has run.
      const recorded = await recordedMigrations(kind, url);
      for (const row of manifest.migrations) expect(recorded.get(row['name'] as string), String(row['name'])).toBe(row['timestamp']);
      const current = Object.keys(await migrationProvider.getMigrations());
      for (const name of current) expect(recorded.get(name), `${name} has run`).toEqual(expect.any(String));

      expect(heads.size).toBeGreaterThanOrEqual(3);
      for (const [userId, head] of heads) await expectUserAsStored(store, manifest, userId, head);
      expect(await store.headSeq('nobody-in-the-fixture')).toBe(0);
    });

    it('goes on from each head: stored keys stay stored once, a new event gets head + 1, old notifications can be read', async () => {
      url = await restore(folder, kind);
      store = createStore(url);
      await store.migrate();

      // Every idempotency key the old release stored is still known: publishing it again stores nothing.
      const repeats: AppendInput[] = manifest.events
        .filter((row) => row['key'] !== null)
        .map((row) => ({ userId: row['user_id'] as string, type: 'task_update', key: row['key'] as string, payload: { again: true } }));
      expect(repeats.length).toBeGreaterThanOrEqual(3);
      expect(await store.append(repeats)).toEqual([]);

      const users = [...heads.keys()];
      const appended = await store.append(
        users.map((userId) => ({ userId, type: 'new_notification', key: 'after-upgrade', payload: { title: 'after the upgrade ✓' } })),
      );
      expect(appended.map((event) => [event.userId, event.seq])).toEqual(users.map((userId) => [userId, heads.get(userId)! + 1]));
      for (const userId of users) {
        expect(await store.headSeq(userId)).toBe(heads.get(userId)! + 1);
        const [newest] = (await store.listNotifications(userId, { status: 'all', limit: 1 })).items;
        expect(newest).toMatchObject({ key: 'after-upgrade', status: 'unread', payload: { title: 'after the upgrade ✓' } });
      }

      // An unread notification the old release stored can be marked read, as the next event of its user.
      const oldUnread = manifest.notifications.find((row) => row['status'] === 'unread')!;
      const owner = oldUnread['user_id'] as string;
      const read = await store.markRead(owner, [oldUnread['id'] as string]);
      expect(read).toMatchObject({ seq: heads.get(owner)! + 2, type: 'notification_read', payload: { notification_ids: [oldUnread['id']] } });
      const unreadIds = (await store.listNotifications(owner, { status: 'unread', limit: 1000 })).items.map((item) => item.id);
      expect(unreadIds).not.toContain(oldUnread['id']);
    });
  });
});

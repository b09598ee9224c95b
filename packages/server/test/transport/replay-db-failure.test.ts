import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { heldStore, type HeldStore } from '../helpers/held-store.js';
import { startStoppablePostgres, type StoppablePostgres } from '../helpers/stoppable-postgres.js';
import { TestClient, type Frame } from '../helpers/ws-client.js';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);
const seqs = (events: Frame[]) => events.map((event) => event.seq);
/** The replay's page size (StreamSync's default): the outage is put between the first page and the second. */
const PAGE_SIZE = 500;
/** The close code the README's table gives for "the database could not be read during a replay". */
const DATABASE_UNAVAILABLE = 1011;

/** How a test takes the database away and gives it back. */
interface Outage {
  start(): Promise<{ gateway: TestGateway; control: HeldStore }>;
  fail(): Promise<void>;
  recover(): Promise<void>;
  cleanUp(): Promise<void>;
}

/**
 * SQLite: the file, its WAL and its shared-memory index are overwritten in place with garbage, as a disk that
 * returns junk would, and later written back byte for byte. The same inodes stay open in the gateway (deleting or
 * replacing the files would not reach its open handle, and chmod is no obstacle to root), and the garbage index
 * makes SQLite drop its page cache and read the file again, so the read fails with the driver's own error
 * (SQLITE_NOTADB). Writes go in place, never by truncating: the index is mapped into memory.
 */
function sqliteOutage(): Outage {
  let gateway: TestGateway;
  let saved: Array<{ path: string; bytes: Buffer }> = [];
  const overwrite = (path: string, bytes: Buffer) => {
    const fd = openSync(path, 'r+');
    try {
      writeSync(fd, bytes, 0, bytes.length, 0);
    } finally {
      closeSync(fd);
    }
  };
  return {
    start: async () => {
      let control!: HeldStore;
      gateway = await startGateway('sqlite', {
        wrapStore: (store) => {
          control = heldStore(store);
          return control.store;
        },
      });
      return { gateway, control };
    },
    fail: async () => {
      const path = gateway.databaseUrl;
      saved = [path, `${path}-wal`, `${path}-shm`].map((file) => ({ path: file, bytes: readFileSync(file) }));
      for (const { path: file, bytes } of saved) overwrite(file, Buffer.alloc(bytes.length, 0xa5));
    },
    recover: async () => {
      for (const { path, bytes } of saved) overwrite(path, bytes);
    },
    cleanUp: async () => {
      await gateway?.close();
    },
  };
}

/** PostgreSQL: a server of the test's own, stopped and started again. */
function postgresOutage(): Outage {
  let postgres: StoppablePostgres | undefined;
  let gateway: TestGateway | undefined;
  return {
    start: async () => {
      postgres = await startStoppablePostgres();
      let control!: HeldStore;
      gateway = await startGateway('postgres', {
        databaseUrl: postgres.url,
        wrapStore: (store) => {
          control = heldStore(store);
          return control.store;
        },
      });
      return { gateway, control };
    },
    fail: () => postgres!.stop(),
    recover: () => postgres!.start(),
    cleanUp: async () => {
      await gateway?.close();
      await postgres?.remove();
    },
  };
}

describe.each([
  ['sqlite', sqliteOutage],
  ['postgres', postgresOutage],
] as const)('the database fails during a replay (%s)', (_kind, makeOutage) => {
  const outage = makeOutage();
  let gateway: TestGateway;
  let control: HeldStore;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    ({ gateway, control } = await outage.start());
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(() => outage.cleanUp());

  async function open(user: string, since: number): Promise<TestClient> {
    const client = await TestClient.open(gateway.wsUrl, await gateway.token(user), since);
    clients.push(client);
    return client;
  }

  async function publish(user: string, count: number): Promise<number[]> {
    const items = Array.from({ length: count }, (_, index) => ({ user_id: user, type: 'new_notification' as const, payload: { index } }));
    return (await gateway.herald.publish(items)).map((event) => event.seq);
  }

  it(`closes the tab with ${DATABASE_UNAVAILABLE}, and a reconnect with since = its last seq gets the rest once, in order`, async () => {
    const user = uniqueUser('outage');
    await publish(user, PAGE_SIZE + 100);
    // The first page goes out; the read of the second is held before it reaches the database, which then fails.
    const secondPage = control.holdEventsAfter(user, { phase: 'before', since: PAGE_SIZE });
    const first = await open(user, 0);
    await secondPage.reached;
    await outage.fail();
    secondPage.release();

    // A tab left open here would wait for events that never come: it must be told to go and come back.
    await first.waitFor(() => first.ws.readyState === first.ws.CLOSED, 5000, 'the tab to be closed');
    const closed = await first.closed;
    expect(closed.code).toBe(DATABASE_UNAVAILABLE);
    expect(closed.reason).toMatch(/reconnect/i);
    const seen = seqs(first.events);
    expect(seen).toEqual(range(1, PAGE_SIZE));

    await outage.recover();
    // Stored once the database is back, before the tab returns: it must get these too.
    expect(await publish(user, 2)).toEqual([PAGE_SIZE + 101, PAGE_SIZE + 102]);
    const second = await open(user, seen.at(-1)!);
    const [connected] = await second.waitForType('connected');
    expect(connected?.payload).toMatchObject({ seq: PAGE_SIZE + 102, since: PAGE_SIZE });
    const rest = seqs(await second.waitForSeq(PAGE_SIZE + 102));
    expect(rest).toEqual(range(PAGE_SIZE + 1, PAGE_SIZE + 102));
    // Then it is live: the next event follows directly, and nothing comes twice.
    const [next] = await publish(user, 1);
    expect(seqs(await second.waitForSeq(next!))).toEqual(range(PAGE_SIZE + 1, next!));
    expect([...seen, ...seqs(second.events)]).toEqual(range(1, next!));
  });
});

import BetterSqlite3 from 'better-sqlite3';
import { ErrorCode } from '@herald/protocol';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/create-store.js';
import { databaseKinds, dropDatabase, freshDatabaseUrl, type DatabaseKind } from '../helpers/databases.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestClient } from '../helpers/ws-client.js';

// Cursors and `since` past 32 bits, through a real gateway whose user's stream is there: a page, a resume and a
// count work alike on both databases (a cursor past 2^31 was a 500 on PostgreSQL), and whatever is past
// Number.MAX_SAFE_INTEGER, which a number cannot hold exactly, is refused as malformed.

const INT4_MAX = 2 ** 31 - 1;
const USER = 'wide-user';

/** A migrated database in which USER's stream stands at `head`, as a stream that long-lived would. */
async function databaseWithHead(kind: DatabaseKind, head: number): Promise<string> {
  const url = await freshDatabaseUrl(kind);
  const store = createStore(url);
  await store.migrate();
  await store.close();
  const insert = `insert into user_streams (user_id, last_seq) values ('${USER}', ${head})`;
  if (kind === 'sqlite') {
    const db = new BetterSqlite3(url);
    db.exec(insert);
    db.close();
  } else {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(insert);
    await client.end();
  }
  return url;
}

describe.each(databaseKinds)('seqs past 32 bits at the edge on %s', (kind) => {
  let gateway: TestGateway;
  let url: string;
  /** USER's seqs, oldest first: INT4_MAX, INT4_MAX + 1, INT4_MAX + 2. */
  let seqs: number[];
  beforeAll(async () => {
    url = await databaseWithHead(kind, INT4_MAX - 1);
    gateway = await startGateway(kind, { databaseUrl: url });
    const published = await gateway.publish([1, 2, 3].map((n) => ({ user_id: USER, type: 'new_notification', payload: { n } })));
    expect(published.status).toBe(200);
    seqs = published.body.events.map((event: { seq: number }) => event.seq);
  });
  afterAll(async () => {
    await gateway.close();
    await dropDatabase(url);
  });

  const list = (query: string) => gateway.asUser(USER, `/notifications?${query}`);
  const numbers = (response: { body: { items: Array<{ payload: { n: number } }> } }) => response.body.items.map((item) => item.payload.n);

  it('numbers the events past 2^31 and counts them with the head seq as a number', async () => {
    expect(seqs).toEqual([INT4_MAX, INT4_MAX + 1, INT4_MAX + 2]);
    expect(await gateway.asUser(USER, '/notifications/unread-count')).toEqual({ status: 200, body: { count: 3, seq: INT4_MAX + 2 } });
  });

  it('pages by cursors past 2^31', async () => {
    const first = await list('limit=1');
    expect({ status: first.status, n: numbers(first), next: first.body.next_cursor }).toEqual({ status: 200, n: [3], next: String(INT4_MAX + 2) });
    const second = await list(`limit=1&cursor=${first.body.next_cursor}`);
    expect({ n: numbers(second), next: second.body.next_cursor }).toEqual({ n: [2], next: String(INT4_MAX + 1) });
    expect(numbers(await list('cursor=2147483648'))).toEqual([1]);
    expect(numbers(await list(`cursor=${INT4_MAX}`))).toEqual([]);
  });

  it('takes every cursor up to Number.MAX_SAFE_INTEGER, and refuses one past it with 400', async () => {
    for (const cursor of ['4294967296', '1000000000000000', '9007199254740991']) {
      const response = await list(`cursor=${cursor}`);
      expect({ cursor, status: response.status, n: numbers(response) }).toEqual({ cursor, status: 200, n: [3, 2, 1] });
    }
    const past = { error: ErrorCode.BadRequest, message: 'querystring.cursor must be at most 9007199254740991' };
    for (const cursor of ['9007199254740992', '9007199254740993', '9999999999999999']) {
      expect({ cursor, ...(await list(`cursor=${cursor}`)) }).toEqual({ cursor, status: 400, body: past });
    }
    for (const cursor of ['10000000000000000', '99999999999999999999', '0', '01', '-1', '1e3', ' 2']) {
      const response = await list(`cursor=${encodeURIComponent(cursor)}`);
      expect({ cursor, status: response.status, error: response.body.error }).toEqual({ cursor, status: 400, error: ErrorCode.BadRequest });
      expect(response.body.message).toMatch(/^querystring\.cursor /);
    }
  });

  it('replays from a since past 2^31, in the URL and in a resume frame', async () => {
    const token = await gateway.token(USER);
    const byUrl = await TestClient.open(gateway.wsUrl, token, INT4_MAX);
    const byFrame = await TestClient.open(gateway.wsUrl, token);
    try {
      const [connected] = await byUrl.waitForType('connected');
      expect(connected!.payload).toMatchObject({ seq: INT4_MAX + 2, since: INT4_MAX });
      expect((await byUrl.waitForSeq(INT4_MAX + 2)).map((event) => event.seq)).toEqual([INT4_MAX + 1, INT4_MAX + 2]);

      await byFrame.waitForType('connected');
      byFrame.send({ type: 'resume', payload: { since: INT4_MAX } });
      expect((await byFrame.waitForSeq(INT4_MAX + 2)).map((event) => event.seq)).toEqual([INT4_MAX + 1, INT4_MAX + 2]);
    } finally {
      await Promise.all([byUrl.close(), byFrame.close()]);
    }
  });

  it('starts at the head from a since of Number.MAX_SAFE_INTEGER, and refuses one past it with 1008', async () => {
    const token = await gateway.token(USER);
    const top = await TestClient.open(gateway.wsUrl, token, Number.MAX_SAFE_INTEGER);
    try {
      const [connected] = await top.waitForType('connected');
      expect(connected!.payload).toMatchObject({ seq: INT4_MAX + 2 });
      expect(top.events).toEqual([]);
    } finally {
      await top.close();
    }
    const past = await TestClient.connect(`${gateway.wsUrl}?${new URLSearchParams({ token, since: '9007199254740992' })}`);
    expect((await past.closed).code).toBe(1008);
  });
});

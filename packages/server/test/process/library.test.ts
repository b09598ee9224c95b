import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Herald, loadConfig, mintToken } from '../../src/index.js';
import { createLogger } from '../../src/logger.js';
import { dropDatabase, freshDatabaseUrl } from '../helpers/databases.js';
import { uniqueUser } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait-until.js';
import { TestClient } from '../helpers/ws-client.js';

const SECRET = 'library-test-secret-long-enough-for-hs256';

describe('Herald embedded in your own node:http server', () => {
  let herald: Herald;
  let server: Server;
  let wsUrl: string;
  let appUrl: string;
  let databaseUrl: string;
  const token = (userId: string) => mintToken(SECRET, userId);

  beforeAll(async () => {
    databaseUrl = await freshDatabaseUrl('sqlite');
    const config = loadConfig({
      HERALD_DATABASE_URL: databaseUrl,
      HERALD_JWT_SECRET: SECRET,
      HERALD_API_KEY: 'library-test-api-key-0123',
      HERALD_LOG_LEVEL: 'silent',
      HERALD_SHUTDOWN_TIMEOUT_MS: '2000',
    });
    herald = await Herald.create({ config, logger: createLogger('silent') });
    server = createServer((_request, response) => response.end('the application'));
    herald.attach(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    appUrl = `http://127.0.0.1:${port}`;
    wsUrl = `ws://127.0.0.1:${port}/ws/notifications`;
  });

  afterAll(async () => {
    await herald?.close();
    await new Promise((resolve) => server?.close(resolve));
    if (databaseUrl) await dropDatabase(databaseUrl);
  });

  const open = async (userId: string, since?: number): Promise<TestClient> => {
    const client = await TestClient.open(wsUrl, await token(userId), since);
    await client.waitForType('connected');
    return client;
  };

  it("keeps serving the application's own requests", async () => {
    const response = await fetch(`${appUrl}/anything`);
    expect(await response.text()).toBe('the application');
  });

  it('tracks who is connected: isConnected and connectedUsers', async () => {
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    expect(herald.isConnected(alice)).toBe(false);
    const aliceTabs = [await open(alice), await open(alice)];
    const bobTab = await open(bob);
    expect(herald.isConnected(alice)).toBe(true);
    expect(herald.isConnected(bob)).toBe(true);
    expect(herald.connectedUsers().sort()).toEqual([alice, bob].sort());

    // One of alice's two tabs closing leaves her connected; the last one takes her out.
    await aliceTabs[0]!.close();
    await bobTab.close();
    await waitUntil(() => !herald.isConnected(bob), 'bob is gone');
    expect(herald.isConnected(alice)).toBe(true);
    expect(herald.connectedUsers()).toEqual([alice]);
    await aliceTabs[1]!.close();
    await waitUntil(() => herald.connectedUsers().length === 0, 'nobody is connected');
    expect(herald.isConnected(alice)).toBe(false);
  });

  it("sendToUser stores the event and pushes it to every tab of that user only, once per id", async () => {
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    const tabs = [await open(alice), await open(alice)];
    const bobTab = await open(bob);

    const event = await herald.sendToUser(alice, 'new_notification', { title: 'From your code' }, { id: 'lib-1' });
    expect(event).toMatchObject({ userId: alice, seq: 1, type: 'new_notification' });
    expect(await herald.sendToUser(alice, 'new_notification', { title: 'again' }, { id: 'lib-1' })).toBeUndefined();
    const task = await herald.sendToUser(alice, 'task_update', { action: 'done', task: { id: 3 } });
    expect(task).toMatchObject({ seq: 2, type: 'task_update' });
    // publish() takes the /publish items; bob's event shows that bob's tab works and saw nothing of alice's.
    const [bobEvent] = await herald.publish([{ user_id: bob, type: 'task_update', payload: { action: 'bob' } }]);
    expect(bobEvent).toMatchObject({ userId: bob, seq: 1 });

    for (const tab of tabs) {
      const events = await tab.waitForSeq(2);
      expect(events.map((frame) => [frame.type, frame.seq])).toEqual([
        ['new_notification', 1],
        ['task_update', 2],
      ]);
      expect(events[0]!.payload).toMatchObject({ id: event!.payload['id'], key: 'lib-1', payload: { title: 'From your code' } });
    }
    expect(await bobTab.waitForSeq(1)).toEqual([{ type: 'task_update', seq: 1, payload: { action: 'bob' } }]);

    // Stored: a later client replays it from 0.
    const late = await open(alice, 0);
    const replayed = await late.waitForSeq(2);
    expect(replayed.map((frame) => [frame.type, frame.seq, frame.payload.id ?? null])).toEqual([
      ['new_notification', 1, event!.payload['id']],
      ['task_update', 2, null],
    ]);
    await Promise.all([...tabs, bobTab, late].map((tab) => tab.close()));
  });

  it('sendToUser to a user with no open tab stores it for later', async () => {
    const carol = uniqueUser('carol');
    expect(herald.isConnected(carol)).toBe(false);
    await herald.sendToUser(carol, 'new_notification', { title: 'while away' });
    const client = await open(carol, 0);
    const [event] = await client.waitForSeq(1);
    expect(event).toMatchObject({ type: 'new_notification', seq: 1, payload: { status: 'unread', payload: { title: 'while away' } } });
    await client.close();
  });

  it("sendToUser takes a notification's category, expiry and actions, and refuses them on a task_update", async () => {
    const dave = uniqueUser('dave');
    const actions = [{ id: 'open', label: 'Open', url: 'https://example.com/o/1' }];
    const event = await herald.sendToUser(dave, 'new_notification', { title: 'with fields' }, { id: 'f-1', category: 'orders', ttl_s: 3600, actions });
    expect(event!.payload).toMatchObject({ key: 'f-1', category: 'orders', actions, expires_at: expect.any(String) });
    const client = await open(dave, 0);
    const [frame] = await client.waitForSeq(1);
    expect(frame!.payload).toMatchObject({ category: 'orders', actions });
    await client.close();
    await expect(herald.sendToUser(dave, 'task_update', { action: 'x', task: {} }, { category: 'orders' })).rejects.toMatchObject({
      code: 'bad_request',
      message: 'input.category is for new_notification only: a task_update is not kept in the inbox',
    });
  });

  it('broadcast reaches every connected tab now and is not stored', async () => {
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    const tabs = [await open(alice), await open(bob)];
    herald.broadcast('task_update', { action: 'maintenance' });
    for (const tab of tabs) {
      expect(await tab.waitForType('task_update')).toEqual([{ type: 'task_update', broadcast: true, payload: { action: 'maintenance' } }]);
    }
    const late = await open(alice, 0);
    await herald.sendToUser(alice, 'new_notification', { title: 'marker' });
    const events = await late.waitForSeq(1);
    expect(events.map((frame) => [frame.type, frame.seq])).toEqual([['new_notification', 1]]);
    expect(late.frames.some((frame) => frame.broadcast === true)).toBe(false);
    await Promise.all([...tabs, late].map((tab) => tab.close()));
  });

  it('refuses a malformed event from plain JavaScript with a message naming the field, and stores nothing', async () => {
    const user = uniqueUser('lib-bad');
    await expect(herald.publish({ user_id: user, type: 'bogus', payload: {} } as never)).rejects.toMatchObject({
      code: 'bad_request',
      message: 'input.type must be equal to one of the allowed values (new_notification, task_update)',
    });
    await expect(
      herald.publish([{ user_id: user, type: 'new_notification', payload: {} }, { user_id: user, payload: 'x' } as never]),
    ).rejects.toMatchObject({ message: 'input[1].type is required' });
    expect(await herald.sendToUser(user, 'new_notification', { title: 'valid' })).toMatchObject({ seq: 1 });
  });

  it('refuses a bad token on the attached endpoint too', async () => {
    const client = await TestClient.open(wsUrl, await mintToken(`${SECRET}-wrong`, uniqueUser('mallory')));
    expect((await client.closed).code).toBe(4001);
  });
});

describe('closing an embedded Herald', () => {
  it('closes its WebSocket clients with 1012 and leaves your server running', async () => {
    const databaseUrl = await freshDatabaseUrl('sqlite');
    const config = loadConfig({ HERALD_DATABASE_URL: databaseUrl, HERALD_JWT_SECRET: SECRET, HERALD_API_KEY: 'library-test-api-key-0123' });
    const herald = await Herald.create({ config, logger: createLogger('silent') });
    const server = createServer((_request, response) => response.end('still here'));
    herald.attach(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const client = await TestClient.open(`ws://127.0.0.1:${port}/ws/notifications`, await mintToken(SECRET, uniqueUser('closing')));
      await client.waitForType('connected');
      await herald.close();
      expect((await client.closed).code).toBe(1012);
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('still here');
    } finally {
      await herald.close();
      await new Promise((resolve) => server.close(resolve));
      await dropDatabase(databaseUrl);
    }
  });
});

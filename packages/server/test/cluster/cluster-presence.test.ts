import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { TestClient } from '../helpers/ws-client.js';

// The library API of two gateways in one process, clustered through the run's Redis: isConnected and
// connectedUsers answer for the user's tabs on every node, not only the node asked.

describe('cluster presence through the library API', () => {
  const gateways: TestGateway[] = [];
  afterEach(async () => {
    // The first one owns the database: close it last.
    for (const gateway of gateways.splice(0).reverse()) await gateway.close();
  });

  async function twoNodes(): Promise<[TestGateway, TestGateway]> {
    const env = { HERALD_REDIS_URL: inject('redisUrl'), HERALD_REDIS_KEY_PREFIX: `test-${randomBytes(6).toString('hex')}:` };
    const first = await startGateway('postgres', { env });
    gateways.push(first);
    const second = await startGateway('postgres', { env, databaseUrl: first.databaseUrl });
    gateways.push(second);
    return [first, second];
  }

  it('sees a tab on the other node, and forgets it when it closes', async () => {
    const [here, there] = await twoNodes();
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    expect(here.herald.isConnected(alice)).toBe(false);

    const tab = await TestClient.open(there.wsUrl, await there.token(alice));
    await tab.waitForType('connected');
    const bobTab = await TestClient.open(here.wsUrl, await here.token(bob));
    await bobTab.waitForType('connected');
    expect(there.herald.isConnected(alice)).toBe(true);
    await expect.poll(() => here.herald.isConnected(alice)).toBe(true);
    await expect.poll(() => there.herald.isConnected(bob)).toBe(true);
    expect(here.herald.connectedUsers().sort()).toEqual([alice, bob].sort());
    expect(there.herald.connectedUsers().sort()).toEqual([alice, bob].sort());

    await tab.close();
    await expect.poll(() => here.herald.isConnected(alice)).toBe(false);
    expect(there.herald.isConnected(alice)).toBe(false);
    expect(here.herald.connectedUsers()).toEqual([bob]);
    await bobTab.close();
  });

  it('a node that closes leaves presence at once', async () => {
    const [here, there] = await twoNodes();
    const carol = uniqueUser('carol');
    const tab = await TestClient.open(there.wsUrl, await there.token(carol));
    await tab.waitForType('connected');
    await expect.poll(() => here.herald.isConnected(carol)).toBe(true);
    await there.herald.close();
    await expect.poll(() => here.herald.isConnected(carol)).toBe(false);
    expect(here.herald.connectedUsers()).toEqual([]);
  });

  it('publishing through the library on one node reaches a tab on the other', async () => {
    const [here, there] = await twoNodes();
    const dave = uniqueUser('dave');
    const tab = await TestClient.open(there.wsUrl, await there.token(dave));
    await tab.waitForType('connected');
    await here.herald.sendToUser(dave, 'new_notification', { title: 'from the other node' });
    here.herald.broadcast('new_notification', { title: 'to everyone' });
    await tab.waitForSeq(1);
    await tab.waitFor((frames) => frames.some((frame) => frame.broadcast === true), 5000, 'the broadcast');
    expect(tab.events).toMatchObject([{ seq: 1, payload: { payload: { title: 'from the other node' } } }]);
    await tab.close();
  });
});

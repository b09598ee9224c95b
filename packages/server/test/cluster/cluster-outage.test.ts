import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { clusterUser, connectTab, openTab, TestCluster, type ClusterNode } from '../helpers/cluster.js';
import { httpRequest } from '../helpers/http-request.js';
import { metricValue } from '../helpers/metric-value.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startStoppablePostgres, type StoppablePostgres } from '../helpers/stoppable-postgres.js';
import { waitUntil } from '../helpers/wait-until.js';
import type { TestClient } from '../helpers/ws-client.js';

// Two `herald start` nodes in cluster mode while one of the services they share goes away and comes back.
//
// PostgreSQL down: publishing answers 503 at once on every node (not 500, not a request that never ends), the open
// tabs stay open, a tab that needs the store is closed with a code that says "reconnect" instead of being left
// waiting, and once PostgreSQL is back every event that was answered with a 2xx reaches every tab once, in order.
//
// Redis down (README, "What happens when something fails"): each node goes on serving its own tabs; a broadcast
// reaches only the node it was sent to and is not delivered elsewhere later; the per-user limit counts only the
// node's own tabs. Once Redis is back, broadcasts and the limit span the cluster again.

const oneTo = (count: number): number[] => Array.from({ length: count }, (_, index) => index + 1);

/** Rejects when `work` has not settled after `ms`: a request that hangs fails the test with its name. */
async function settlesWithin<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, hang]).finally(() => clearTimeout(timer));
}

function item(user: string, n: number) {
  return { user_id: user, type: 'new_notification', payload: { n }, id: `n-${n}` };
}

/** Publishes `n` on `node`, again with the same id while the answer is 503; fails on any other non-2xx. */
async function publishUntilStored(cluster: TestCluster, node: ClusterNode, user: string, n: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const { status, body } = await cluster.publish(node, item(user, n));
    if (status >= 200 && status < 300) return;
    expect(status, JSON.stringify(body)).toBe(503);
    if (attempt > 100) throw new Error(`n=${n} still 503 after ${attempt} attempts`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function expectEveryEventOnceInOrder(tab: TestClient, count: number, what: string): void {
  expect(tab.events.map((event) => event.seq), what).toEqual(oneTo(count));
  expect(tab.events.map((event) => event.payload.payload.n), what).toEqual(oneTo(count));
}

function isOpen(tab: TestClient): boolean {
  return tab.ws.readyState === WebSocket.OPEN;
}

describe('a cluster whose PostgreSQL stops', () => {
  let cluster: TestCluster | undefined;
  let postgres: StoppablePostgres | undefined;
  afterEach(async () => {
    await cluster?.remove();
    await postgres?.remove();
    cluster = postgres = undefined;
  });

  it('answers 503 to publishes, keeps its tabs or tells them to reconnect, and delivers every 2xx event once, in order, after', async () => {
    postgres = await startStoppablePostgres();
    cluster = await TestCluster.create({ env: { HERALD_DATABASE_URL: postgres.url } });
    const [a, b] = (await cluster.start(2)) as [ClusterNode, ClusterNode];
    const user = clusterUser('pg-outage');
    const token = await cluster.token(user);
    const tabs = await Promise.all([a, a, b].map((node) => connectTab(node.wsUrl, token)));

    for (const n of oneTo(6)) await publishUntilStored(cluster, n % 2 === 0 ? a : b, user, n);
    for (const tab of tabs) await tab.waitForSeq(6, 10_000);

    await postgres.stop();
    for (const node of [a, b]) {
      const single = await settlesWithin(cluster.publish(node, item(user, 7)), 15_000, `publish on ${node.name}`);
      expect(single, node.name).toMatchObject({ status: 503, body: { error: 'unavailable' } });
      const batch = await settlesWithin(
        cluster.publish(node, [item(user, 7), item(clusterUser('other'), 1)]),
        15_000,
        `batch publish on ${node.name}`,
      );
      expect(batch.status, node.name).toBe(503);
      const ready = await settlesWithin(httpRequest(node.url, '/readyz'), 15_000, `/readyz on ${node.name}`);
      expect(ready, node.name).toMatchObject({ status: 503, body: { database: 'unreachable', redis: 'ok' } });
    }
    // A tab that reconnects now cannot be served its missed events: it is closed with 1011, which the client
    // answers by reconnecting with since, instead of being left open without its `connected` frame.
    const refused = await openTab(b.wsUrl, token, 6);
    expect(refused).toEqual({ connected: false, code: 1011 });
    // The tabs that were open stay open: nothing was published, so nothing is missing for them.
    expect(tabs.map(isOpen)).toEqual([true, true, true]);

    await postgres.start();
    for (const node of [a, b]) {
      await waitUntil(async () => (await httpRequest(node.url, '/readyz')).status === 200, `${node.name} is ready again`, 20_000);
    }
    // n = 7 was answered 503 on both nodes: publishing it again (same id) is what a producer does.
    for (const n of [7, 8, 9, 10, 11, 12]) await publishUntilStored(cluster, n % 2 === 0 ? a : b, user, n);
    const resumed = await connectTab(b.wsUrl, token, 6);
    for (const tab of [...tabs, resumed]) await tab.waitForSeq(12, 15_000);
    tabs.forEach((tab, index) => expectEveryEventOnceInOrder(tab, 12, `tab ${index}`));
    expect(resumed.events.map((event) => event.seq)).toEqual([7, 8, 9, 10, 11, 12]);
    expect(resumed.events.map((event) => event.payload.payload.n)).toEqual([7, 8, 9, 10, 11, 12]);
    await Promise.all([...tabs, resumed].map((tab) => tab.close()));
  }, 120_000);
});

describe('a cluster whose Redis stops', () => {
  let cluster: TestCluster | undefined;
  let redis: RedisServer | undefined;
  afterEach(async () => {
    await cluster?.remove();
    await redis?.remove();
    cluster = redis = undefined;
  });

  /** The payloads of the broadcast frames a tab received, in order. */
  function broadcasts(tab: TestClient): string[] {
    return tab.frames.filter((frame) => frame.broadcast === true).map((frame) => frame.payload.title as string);
  }

  async function broadcast(node: ClusterNode, title: string): Promise<number> {
    const response = await httpRequest(node.url, '/broadcast', {
      bearer: cluster!.env['HERALD_API_KEY']!,
      body: { type: 'new_notification', payload: { title } },
    });
    expect(response.status).toBe(200);
    return response.body.connections as number;
  }

  async function redisState(node: ClusterNode): Promise<string> {
    return (await httpRequest(node.url, '/readyz')).body.redis as string;
  }

  it('keeps broadcasts and the per-user limit to each node while Redis is down, and spans the cluster again once it is back', async () => {
    redis = await startRedisServer();
    cluster = await TestCluster.create({ redisUrl: redis.url, env: { HERALD_MAX_CONNECTIONS_PER_USER: '2' } });
    const [a, b] = (await cluster.start(2)) as [ClusterNode, ClusterNode];
    const watcher = clusterUser('watcher');
    const limited = clusterUser('limited');
    const watcherToken = await cluster.token(watcher);
    const limitedToken = await cluster.token(limited);
    const [watcherA, watcherB] = await Promise.all([a, b].map((node) => connectTab(node.wsUrl, watcherToken)));
    // The limited user is at the limit over the cluster, one tab on each node.
    const [limitedA, limitedB] = await Promise.all([a, b].map((node) => connectTab(node.wsUrl, limitedToken)));
    const allTabs = (): TestClient[] => [watcherA!, watcherB!, limitedA!, limitedB!];

    // With Redis: a broadcast reaches every node, and the limit counts the tabs of both nodes.
    await broadcast(a, 'before');
    for (const tab of allTabs()) await tab.waitFor((frames) => frames.some((frame) => frame.payload?.title === 'before'));
    for (const node of [a, b]) expect(await openTab(node.wsUrl, limitedToken), node.name).toEqual({ connected: false, code: 4029 });

    await redis.stop();
    for (const node of [a, b]) await waitUntil(async () => (await redisState(node)) === 'reconnecting', `${node.name} notices`, 10_000);

    // Broadcasts stay on the node they were sent to; the answer counts that node's own connections.
    expect(await broadcast(a, 'down-from-a')).toBe(2);
    expect(await broadcast(b, 'down-from-b')).toBe(2);
    await watcherA!.waitFor((frames) => frames.some((frame) => frame.payload?.title === 'down-from-a'));
    await limitedA!.waitFor((frames) => frames.some((frame) => frame.payload?.title === 'down-from-a'));
    await watcherB!.waitFor((frames) => frames.some((frame) => frame.payload?.title === 'down-from-b'));
    await limitedB!.waitFor((frames) => frames.some((frame) => frame.payload?.title === 'down-from-b'));

    // The limit counts only the node's own tabs: one more tab is admitted on each node (the user now holds four,
    // twice the limit over the cluster), and the next one on a node is refused as that node's own count is over.
    const extraA = await connectTab(a.wsUrl, limitedToken);
    const extraB = await connectTab(b.wsUrl, limitedToken);
    for (const node of [a, b]) expect(await openTab(node.wsUrl, limitedToken), node.name).toEqual({ connected: false, code: 4029 });

    await redis.start();
    for (const node of [a, b]) await waitUntil(async () => (await redisState(node)) === 'ok', `${node.name} is back on Redis`, 20_000);

    // Broadcasts span the cluster again. What was broadcast during the outage never reached the other node, and
    // does not arrive later: each tab has the broadcasts of its own node's outage, then 'after', and nothing else.
    await broadcast(a, 'after');
    for (const tab of [...allTabs(), extraA, extraB]) await tab.waitFor((frames) => frames.some((frame) => frame.payload?.title === 'after'));
    expect(broadcasts(watcherA!)).toEqual(['before', 'down-from-a', 'after']);
    expect(broadcasts(limitedA!)).toEqual(['before', 'down-from-a', 'after']);
    expect(broadcasts(watcherB!)).toEqual(['before', 'down-from-b', 'after']);
    expect(broadcasts(limitedB!)).toEqual(['before', 'down-from-b', 'after']);
    expect(broadcasts(extraA)).toEqual(['after']);
    expect(broadcasts(extraB)).toEqual(['after']);
    // The tabs admitted past the limit during the outage are kept, not closed afterwards.
    expect([...allTabs(), extraA, extraB].map(isOpen)).toEqual([true, true, true, true, true, true]);

    // The limit spans the cluster again: with no tab of the user left on a, a tab there is refused because of the
    // two on b, once b has written its counts into the restarted Redis.
    await Promise.all([limitedA!.close(), extraA.close()]);
    // a holds only the watcher's tab now, so a refusal there can come only from b's count.
    await waitUntil(async () => (await metricValue(a.url, 'herald_connections')) === 1, 'a has counted both tabs out', 10_000);
    await waitUntil(
      async () => {
        const outcome = await openTab(a.wsUrl, limitedToken);
        if (outcome.connected) await outcome.client.close();
        return !outcome.connected && outcome.code === 4029;
      },
      "a refuses the user's tab because of b's two",
      20_000,
    );
    // And frees a slot for a once one of b's tabs closes.
    await extraB.close();
    let admitted: TestClient | undefined;
    await waitUntil(
      async () => {
        const outcome = await openTab(a.wsUrl, limitedToken);
        if (outcome.connected) admitted = outcome.client;
        return outcome.connected;
      },
      'a admits the tab once b holds one',
      20_000,
    );
    expect(await openTab(b.wsUrl, limitedToken)).toEqual({ connected: false, code: 4029 });
    await Promise.all([watcherA!, watcherB!, limitedB!, admitted!].map((tab) => tab.close()));
  }, 120_000);
});

import { afterEach, describe, expect, it } from 'vitest';
import { clusterUser, connectTab, openTab, TestCluster, type ClusterNode } from '../helpers/cluster.js';
import { httpRequest } from '../helpers/http-request.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { waitUntil } from '../helpers/wait-until.js';
import type { TestClient } from '../helpers/ws-client.js';

// A node of three dies (kill -9), or Redis itself restarts, while one user's events stream in: nothing may be
// lost, repeated or reordered for any of the user's tabs.

const oneTo = (count: number): number[] => Array.from({ length: count }, (_, index) => index + 1);

/** The seqs of the payload n's a tab received, in arrival order, and the n's themselves. */
function seqs(tab: TestClient): number[] {
  return tab.events.map((event) => event.seq!);
}

function ns(tabs: readonly TestClient[]): number[] {
  return tabs.flatMap((tab) => tab.events.map((event) => event.payload.payload.n as number)).sort((a, b) => a - b);
}

/**
 * Publishes events n = first..last for `user`, one request at a time, round-robin over `nodes`. A request that
 * fails (its node died) is sent again, with the same id, to the next node: stored once whatever happened.
 */
async function publishRange(
  cluster: TestCluster,
  nodes: () => readonly ClusterNode[],
  user: string,
  first: number,
  last: number,
  onPublished?: (n: number) => void,
): Promise<void> {
  let turn = 0;
  for (let n = first; n <= last; n++) {
    for (let attempt = 0; ; attempt++) {
      const live = nodes();
      const node = live[turn++ % live.length]!;
      const item = { user_id: user, type: 'new_notification', payload: { n }, id: `n-${n}` };
      const response = await cluster.publish(node, item).catch(() => undefined);
      if (response?.status === 200) break;
      if (attempt > 20) throw new Error(`publishing n=${n} failed ${attempt} times`);
    }
    onPublished?.(n);
  }
}

describe('a cluster losing a node', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.remove();
    cluster = undefined;
  });

  it("kill -9 of a node mid-stream: its tabs resume on another node with since, and every tab gets every event once, in order", async () => {
    // A limit the user's tabs fill exactly: the reconnecting tab is admitted only once the dead node's count
    // has expired from presence, which shows that a dead node drops out.
    cluster = await TestCluster.create({ env: { HERALD_MAX_CONNECTIONS_PER_USER: '3', HERALD_PRESENCE_TTL_MS: '1500' } });
    const nodes = await cluster.start(3);
    const [a, b, doomed] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    const user = clusterUser('failover');
    const token = await cluster.token(user);
    const tabs = await Promise.all(nodes.map((node) => connectTab(node.wsUrl, token)));
    const doomedTab = tabs[2]!;

    const total = 300;
    let alive: ClusterNode[] = [...nodes];
    let published = 0;
    const publishing = publishRange(cluster, () => alive, user, 1, total, (n) => (published = n));
    await waitUntil(() => published >= 100, '100 events are published', 20_000);
    doomed.child.kill('SIGKILL');
    alive = [a, b];
    expect((await doomed.child.exited).signal).toBe('SIGKILL');
    await doomedTab.closed;

    // The client reconnects to a surviving node from the last seq it saw, backing off while the limit refuses it.
    const lastSeen = seqs(doomedTab).at(-1) ?? 0;
    let resumed: TestClient | undefined;
    await waitUntil(
      async () => {
        const outcome = await openTab(a.wsUrl, token, lastSeen);
        if (!outcome.connected) expect(outcome.code).toBe(4029);
        else resumed = outcome.client;
        return outcome.connected;
      },
      'the dead node leaves presence and the tab is admitted elsewhere',
      20_000,
    );
    await publishing;

    for (const tab of [tabs[0]!, tabs[1]!, resumed!]) await tab.waitForSeq(total, 20_000);
    expect(seqs(tabs[0]!)).toEqual(oneTo(total));
    expect(seqs(tabs[1]!)).toEqual(oneTo(total));
    // Before the kill and after the resume, together: every seq once, in order.
    expect([...seqs(doomedTab), ...seqs(resumed!)]).toEqual(oneTo(total));
    expect(ns([tabs[0]!])).toEqual(oneTo(total));
    expect(ns([doomedTab, resumed!])).toEqual(oneTo(total));
    await Promise.all([tabs[0]!, tabs[1]!, resumed!].map((tab) => tab.close()));
  }, 90_000);
});

describe('a cluster whose Redis restarts', () => {
  let cluster: TestCluster | undefined;
  let redis: RedisServer | undefined;
  afterEach(async () => {
    await cluster?.remove();
    await redis?.remove();
    cluster = redis = undefined;
  });

  it('keeps serving each node its own tabs while Redis is down, and delivers what they missed once it is back', async () => {
    redis = await startRedisServer();
    cluster = await TestCluster.create({ redisUrl: redis.url });
    const nodes = await cluster.start(3);
    const user = clusterUser('redis-restart');
    const token = await cluster.token(user);
    const tabs = await Promise.all(nodes.map((node) => connectTab(node.wsUrl, token)));

    await publishRange(cluster, () => nodes, user, 1, 30);
    for (const tab of tabs) await tab.waitForSeq(30, 10_000);

    await redis.stop();
    for (const node of nodes) {
      await waitUntil(async () => (await httpRequest(node.url, '/readyz')).body.redis === 'reconnecting', `${node.name} notices`);
      // Without Redis a node still serves: it stays ready, and reports Redis.
      expect((await httpRequest(node.url, '/readyz')).status).toBe(200);
    }
    // One event per node, each published on that node: every node's own tab gets its node's event without Redis
    // (and the events before it, read from the store when the gap shows).
    for (const [index, node] of nodes.entries()) {
      const n = 31 + index;
      expect((await cluster.publish(node, { user_id: user, type: 'new_notification', payload: { n }, id: `n-${n}` })).status).toBe(200);
      await tabs[index]!.waitForSeq(n, 10_000);
    }

    // Nothing more is published: the tabs that missed seq 32 or 33 get them only through the recovery.
    await redis.start();
    for (const tab of tabs) {
      await tab.waitForSeq(33, 20_000);
      expect(seqs(tab)).toEqual(oneTo(33));
    }
    for (const node of nodes) {
      await waitUntil(async () => (await httpRequest(node.url, '/readyz')).body.redis === 'ok', `${node.name} is back on Redis`, 10_000);
    }

    // And live routing works again over the restarted Redis, with presence rebuilt.
    await publishRange(cluster, () => nodes, user, 34, 60);
    for (const tab of tabs) {
      await tab.waitForSeq(60, 10_000);
      expect(seqs(tab)).toEqual(oneTo(60));
      expect(ns([tab])).toEqual(oneTo(60));
    }
    await Promise.all(tabs.map((tab) => tab.close()));
  }, 90_000);
  it('routes every user again after a Redis restart, with hundreds of user channels to restore', async () => {
    redis = await startRedisServer();
    cluster = await TestCluster.create({ redisUrl: redis.url });
    const [holder, publisher] = await cluster.start(2);
    const users = Array.from({ length: 300 }, () => clusterUser('many'));
    const tabs = await Promise.all(users.map(async (user) => connectTab(holder!.wsUrl, await cluster!.token(user))));

    await redis.stop();
    await redis.start();
    for (const node of [holder!, publisher!]) {
      await waitUntil(async () => (await httpRequest(node.url, '/readyz')).body.redis === 'ok', `${node.name} is back on Redis`, 20_000);
    }
    // Published on the node that holds none of them: each event reaches its tab only if the holder's channel for
    // that user was subscribed again (nothing later would show the tab a gap).
    const batch = users.map((user) => ({ user_id: user, type: 'new_notification', payload: { n: 1 } }));
    expect((await cluster.publish(publisher!, batch)).status).toBe(200);
    const late: string[] = [];
    await Promise.all(
      tabs.map((tab, index) => tab.waitForSeq(1, 15_000).catch(() => late.push(users[index]!))),
    );
    expect(late).toEqual([]);
    await Promise.all(tabs.map((tab) => tab.close()));
  }, 90_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterUser, connectTab, openTab, TestCluster, type ClusterNode } from '../helpers/cluster.js';
import { metricValue } from '../helpers/metric-value.js';
import { httpRequest } from '../helpers/http-request.js';
import { waitUntil } from '../helpers/wait-until.js';
import type { TestClient } from '../helpers/ws-client.js';

// Three gateway processes on one PostgreSQL database and one Redis, as behind a load balancer: a user's tabs sit
// on different nodes and every event, published on any node, must reach each of them once and in seq order.

const LIMIT = 4;

describe('a cluster of three nodes', () => {
  let cluster: TestCluster;
  let nodes: ClusterNode[];

  beforeAll(async () => {
    cluster = await TestCluster.create({ env: { HERALD_MAX_CONNECTIONS_PER_USER: String(LIMIT) } });
    nodes = await cluster.start(3);
  }, 90_000);
  afterAll(async () => {
    await cluster?.remove();
  });

  /** Expects a tab to hold exactly the events seq 1..count, in order, carrying each published n once. */
  function expectAllOnceInOrder(tab: TestClient, count: number): void {
    const oneToN = Array.from({ length: count }, (_, index) => index + 1);
    expect(tab.events.map((event) => event.seq)).toEqual(oneToN);
    expect(tab.events.map((event) => event.payload.payload.n as number).sort((a, b) => a - b)).toEqual(oneToN);
  }

  it('delivers every event published on any node to the tabs on every node, exactly once and in seq order', async () => {
    const user = clusterUser('everywhere');
    const token = await cluster.token(user);
    // Two tabs on the first node, one on each of the others.
    const tabs = await Promise.all([nodes[0]!, nodes[0]!, nodes[1]!, nodes[2]!].map((node) => connectTab(node.wsUrl, token)));

    // Three producers at once, each on its own node, so that commits of one user race across nodes and events
    // reach a node out of seq order.
    const perNode = 80;
    await Promise.all(
      nodes.map(async (node, index) => {
        for (let i = 0; i < perNode; i++) {
          const n = index * perNode + i + 1;
          const response = await cluster.publish(node, { user_id: user, type: 'new_notification', payload: { n }, id: `n-${n}` });
          expect(response.status).toBe(200);
        }
      }),
    );
    const total = perNode * nodes.length;
    for (const tab of tabs) {
      await tab.waitForSeq(total, 20_000);
      expectAllOnceInOrder(tab, total);
    }
    await Promise.all(tabs.map((tab) => tab.close()));
  }, 60_000);

  it("carries a user's events over Redis only to the nodes that hold one of the user's connections", async () => {
    const [holder, publisher, bystander] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    const user = clusterUser('one-node');
    const tab = await connectTab(holder.wsUrl, await cluster.token(user));
    const before = await Promise.all(nodes.map((node) => redisCounters(node)));

    const count = 25;
    for (let n = 1; n <= count; n++) {
      expect((await cluster.publish(publisher, { user_id: user, type: 'new_notification', payload: { n } })).status).toBe(200);
    }
    await tab.waitForSeq(count, 10_000);
    expectAllOnceInOrder(tab, count);

    // The publisher counts a message when Redis acknowledges it, which may come after the tab has the event.
    const publisherIndex = nodes.indexOf(publisher);
    await waitUntil(
      async () => (await redisCounters(publisher)).published - before[publisherIndex]!.published >= count,
      'the publishing node has counted every message',
    );
    const after = await Promise.all(nodes.map((node) => redisCounters(node)));
    const delta = (index: number, key: keyof RedisCounters): number => after[index]![key] - before[index]![key];
    expect(delta(nodes.indexOf(publisher), 'published')).toBe(count);
    expect(delta(nodes.indexOf(holder), 'received')).toBe(count);
    // Neither the publishing node (it does not hold the user) nor a third node hears of the events.
    expect(delta(nodes.indexOf(publisher), 'received')).toBe(0);
    expect(delta(nodes.indexOf(bystander), 'received')).toBe(0);
    expect(delta(nodes.indexOf(holder), 'delivered')).toBe(count);
    await tab.close();
  }, 60_000);

  it('enforces the per-user connection limit over the tabs on every node', async () => {
    const user = clusterUser('limited');
    const token = await cluster.token(user);
    // LIMIT tabs spread over the three nodes: none of them alone is near the limit.
    const tabs = await Promise.all([nodes[0]!, nodes[1]!, nodes[1]!, nodes[2]!].map((node) => connectTab(node.wsUrl, token)));
    expect(tabs).toHaveLength(LIMIT);

    for (const node of nodes) {
      const refused = await openTab(node.wsUrl, token);
      expect(refused.connected ? 'connected' : refused.code, `a tab past the limit on ${node.name}`).toBe(4029);
    }

    // A tab closing anywhere frees a slot everywhere (once the node it was on has counted it out).
    await tabs[0]!.close();
    let admitted: TestClient | undefined;
    await waitUntil(async () => {
      const outcome = await openTab(nodes[2]!.wsUrl, token);
      if (outcome.connected) admitted = outcome.client;
      return outcome.connected;
    }, 'a tab is admitted on another node after one closed', 10_000);
    expect((await openTab(nodes[0]!.wsUrl, token)).connected).toBe(false);
    await Promise.all([...tabs, admitted!].map((tab) => tab.close()));
  }, 60_000);

  it('reports Redis in /readyz and the node connections in /metrics', async () => {
    const user = clusterUser('probe');
    const tab = await connectTab(nodes[1]!.wsUrl, await cluster.token(user));
    const ready = await httpRequest(nodes[1]!.url, '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', database: 'ok', redis: 'ok' });
    // This tab alone: the earlier tests' tabs on this node are counted out once each node saw their close.
    await expect.poll(() => metricValue(nodes[1]!.url, 'herald_connections')).toBe(1);
    // Nodes started together learn of each other at their next heartbeat at the latest.
    await expect.poll(() => metricValue(nodes[1]!.url, 'herald_cluster_nodes'), { timeout: 15_000 }).toBe(3);
    await tab.close();
  }, 30_000);
});

interface RedisCounters {
  published: number;
  received: number;
  delivered: number;
}

async function redisCounters(node: ClusterNode): Promise<RedisCounters> {
  return {
    published: await metricValue(node.url, 'herald_redis_messages_total', { direction: 'published' }),
    received: await metricValue(node.url, 'herald_redis_messages_total', { direction: 'received' }),
    delivered: await metricValue(node.url, 'herald_events_delivered_total'),
  };
}

import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { BroadcastMessage, BrokerHandlers } from '../../src/broker/broker.js';
import { RedisBroker } from '../../src/cluster/redis-broker.js';
import { RedisLink } from '../../src/cluster/redis-link.js';
import { createLogger } from '../../src/logger.js';
import { Metrics } from '../../src/metrics.js';
import type { StoredEvent } from '../../src/store/store.js';
import { waitUntil } from '../helpers/wait-until.js';

// Two RedisBrokers on the run's Redis, as two nodes, without the rest of the gateway: what crosses Redis, what
// does not, and what happens when only the publishing node's link breaks while the receiver's stays up.

interface Node {
  link: RedisLink;
  broker: RedisBroker;
  metrics: Metrics;
  events: StoredEvent[];
  broadcasts: BroadcastMessage[];
  erased: string[];
  resyncs: number;
}

function event(userId: string, seq: number): StoredEvent {
  return { userId, seq, type: 'new_notification', payload: { n: seq }, createdAt: new Date().toISOString() };
}

describe('RedisBroker', () => {
  const links: RedisLink[] = [];
  afterEach(async () => {
    for (const link of links.splice(0)) await link.close();
  });

  async function node(keyPrefix: string, name: string, logger = createLogger('silent')): Promise<Node> {
    const link = new RedisLink(inject('redisUrl'), createLogger('silent'));
    links.push(link);
    await link.connect();
    const metrics = new Metrics({ connections: () => 0, users: () => 0 });
    const broker = new RedisBroker({ link, keyPrefix, nodeId: name, metrics, logger });
    const state: Node = { link, broker, metrics, events: [], broadcasts: [], erased: [], resyncs: 0 };
    const handlers: BrokerHandlers = {
      event: (stored) => state.events.push(stored),
      broadcast: (message) => state.broadcasts.push(message),
      erased: (userId) => state.erased.push(userId),
      resync: () => state.resyncs++,
    };
    await broker.connect(handlers);
    return state;
  }

  const prefix = (): string => `test-${randomBytes(6).toString('hex')}:`;

  it("delivers locally at once, and over Redis only to a node subscribed to the user, never back to the publisher", async () => {
    const keyPrefix = prefix();
    const [a, b, c] = [await node(keyPrefix, 'a'), await node(keyPrefix, 'b'), await node(keyPrefix, 'c')];
    await a.broker.subscribe('alice');
    await b.broker.subscribe('alice');

    a.broker.publish(event('alice', 1));
    // The publishing node's own handler ran synchronously, without Redis.
    expect(a.events.map((stored) => stored.seq)).toEqual([1]);
    await waitUntil(() => b.events.length === 1, 'b receives it');
    a.broker.broadcast({ type: 'new_notification', payload: { title: 'all' } });
    await waitUntil(() => b.broadcasts.length === 1 && c.broadcasts.length === 1, 'every node receives the broadcast');

    b.broker.unsubscribe('alice');
    a.broker.publish(event('alice', 2));
    await waitUntil(async () => (await a.metrics.redisMessages.get()).values.some((value) => value.labels.direction === 'published' && value.value === 2), 'a published twice');
    // A marker through the broadcast channel: once c and b have it, alice's seq 2 would have arrived before.
    a.broker.broadcast({ type: 'new_notification', payload: { title: 'marker' } });
    await waitUntil(() => b.broadcasts.length === 2 && c.broadcasts.length === 2, 'the marker arrives');
    expect(a.events.map((stored) => stored.seq)).toEqual([1, 2]);
    expect(a.broadcasts).toHaveLength(2);
    expect(b.events.map((stored) => stored.seq)).toEqual([1]);
    expect(c.events).toEqual([]);
  });

  it('tells every node that holds an erased user, itself at once, and no node that does not', async () => {
    const keyPrefix = prefix();
    const [a, b, c] = [await node(keyPrefix, 'a'), await node(keyPrefix, 'b'), await node(keyPrefix, 'c')];
    await b.broker.subscribe('alice');
    await c.broker.subscribe('bob');

    a.broker.erase('alice');
    expect(a.erased).toEqual(['alice']);
    await waitUntil(() => b.erased.length === 1, 'b hears that alice was erased');
    // A marker through bob's channel: once c has it, an erasure of alice sent to c would have arrived before.
    a.broker.publish(event('bob', 1));
    await waitUntil(() => c.events.length === 1, 'the marker arrives');
    expect(b.erased).toEqual(['alice']);
    expect(c.erased).toEqual([]);
    expect(b.events).toEqual([]);
  });

  it('publishes again, once its link is back, the newest event of each user that it could not send', async () => {
    const keyPrefix = prefix();
    const [publisher, receiver] = [await node(keyPrefix, 'publisher'), await node(keyPrefix, 'receiver')];
    await receiver.broker.subscribe('bob');
    publisher.broker.publish(event('bob', 1));
    await waitUntil(() => receiver.events.length === 1, 'the first event arrives');

    // Only the publisher's command connection is cut; the receiver's subscription never notices anything.
    const admin = createClient({ url: inject('redisUrl') });
    await admin.connect();
    const lost = new Promise((resolve) => publisher.link.commands.once('error', resolve));
    try {
      const id = await publisher.link.commands.clientId();
      await admin.sendCommand(['CLIENT', 'KILL', 'ID', String(id)]);
    } finally {
      await admin.close();
    }
    await lost;
    expect(publisher.link.commands.isReady).toBe(false);
    publisher.broker.publish(event('bob', 2));
    publisher.broker.publish(event('bob', 3));

    await waitUntil(() => receiver.events.some((stored) => stored.seq === 3), 'the newest unsent event arrives once the link is back');
    // Seq 2 is not resent: the gap that seq 3 shows the receiver is read from the store.
    expect(receiver.events.map((stored) => stored.seq)).toEqual([1, 3]);
    expect(receiver.resyncs).toBe(0);
    expect((await publisher.metrics.redisPublishFailures.get()).values[0]?.value).toBe(2);
  });

  it('drops malformed messages from Redis, warning once per reason, and delivers the next good one', async () => {
    const keyPrefix = prefix();
    const warnings: Array<Record<string, unknown>> = [];
    const publisher = await node(keyPrefix, 'publisher');
    const receiver = await node(keyPrefix, 'receiver', createLogger('warn', { write: (line: string) => void warnings.push(JSON.parse(line)) }));
    await receiver.broker.subscribe('carol');

    const userChannel = `${keyPrefix}user:carol`;
    const broadcastChannel = `${keyPrefix}broadcast`;
    const stored = (override: Record<string, unknown>) => ({ userId: 'carol', seq: 5, type: 'task_update', payload: {}, createdAt: 'now', ...override });
    const admin = createClient({ url: inject('redisUrl') });
    await admin.connect();
    try {
      for (const text of [
        'not json',
        '[]',
        JSON.stringify({ node: 'stranger', event: stored({ seq: -1 }) }),
        JSON.stringify({ node: 'stranger', event: stored({ seq: '5' }) }),
        JSON.stringify({ node: 'stranger', event: stored({ userId: 5 }) }),
        JSON.stringify({ node: 'stranger', event: stored({ type: 'all_read","seq":99,"payload":{}}' }) }),
        JSON.stringify({ node: 'stranger', hello: true }),
        // Well formed, but another user's event on carol's channel.
        JSON.stringify({ node: 'stranger', event: stored({ userId: 'mallory' }) }),
      ]) {
        await admin.publish(userChannel, text);
      }
      await admin.publish(broadcastChannel, JSON.stringify({ node: 'stranger', broadcast: { type: 'new_notification', payload: [] } }));
      await admin.publish(broadcastChannel, JSON.stringify({ node: 'stranger', event: stored({}) }));
    } finally {
      await admin.close();
    }

    publisher.broker.publish(event('carol', 1));
    publisher.broker.broadcast({ type: 'new_notification', payload: { title: 'after the noise' } });
    await waitUntil(() => receiver.events.length === 1 && receiver.broadcasts.length === 1, 'the good messages arrive');
    expect(receiver.events).toMatchObject([{ userId: 'carol', seq: 1, payload: { n: 1 } }]);
    expect(receiver.broadcasts).toEqual([{ type: 'new_notification', payload: { title: 'after the noise' } }]);
    const dropped = warnings.filter((line) => line['receiver'] === 'broker');
    expect(dropped.map((line) => line['reason']).sort()).toEqual(['invalid field', 'not JSON', 'not an object', 'unknown kind', 'wrong channel']);
    expect(dropped.every((line) => line['level'] === 40)).toBe(true);
    // Counted as received all the same: ten malformed and two good.
    const received = (await receiver.metrics.redisMessages.get()).values.find((value) => value.labels.direction === 'received');
    expect(received?.value).toBe(12);
  });
});

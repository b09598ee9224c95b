import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloseCode } from '@herald/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BroadcastMessage, Broker, BrokerHandlers } from '../../src/broker/broker.js';
import type { Presence } from '../../src/cluster/presence.js';
import { Admission } from '../../src/hub/admission.js';
import { Hub, TOO_MANY_FOR_USER, TOO_MANY_FROM_ADDRESS, type HubEntry, type HubLimits } from '../../src/hub/hub.js';
import { Metrics } from '../../src/metrics.js';
import type { StoredEvent } from '../../src/store/store.js';
import { metricValue } from '../helpers/metric-value.js';

interface Tab extends HubEntry {
  readonly id: number;
}

let nextId = 1;
function tab(userId: string, address = '10.0.0.1'): Tab {
  return { id: nextId++, userId, address };
}

/** Presence behind its interface: each join waits until the test answers it with the user's cluster-wide total. */
class HeldPresence implements Presence {
  readonly calls: string[] = [];
  readonly #joins: ((total: number) => void)[] = [];

  join(userId: string): Promise<number> {
    this.calls.push(`join ${userId}`);
    const { promise, resolve } = Promise.withResolvers<number>();
    this.#joins.push(resolve);
    return promise;
  }

  /** Answers the oldest join still waiting. */
  answer(total: number): void {
    const resolve = this.#joins.shift();
    if (!resolve) throw new Error('no join is waiting');
    resolve(total);
  }

  leave(userId: string): void {
    this.calls.push(`leave ${userId}`);
  }

  isConnected(): boolean {
    return false;
  }

  connectedUsers(): string[] {
    return [];
  }

  async close(): Promise<void> {}
}

/** A Broker that records subscriptions, each live only once the test settles it (oldest first). */
class RecordingBroker implements Broker {
  readonly calls: string[] = [];
  readonly #subscriptions: (() => void)[] = [];

  async connect(_handlers: BrokerHandlers): Promise<void> {}
  publish(_event: StoredEvent): void {}
  broadcast(_message: BroadcastMessage): void {}
  erase(_userId: string): void {}

  subscribe(userId: string): Promise<void> {
    this.calls.push(`subscribe ${userId}`);
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#subscriptions.push(resolve);
    return promise;
  }

  settle(): void {
    const resolve = this.#subscriptions.shift();
    if (!resolve) throw new Error('no subscription is under way');
    resolve();
  }

  unsubscribe(userId: string): void {
    this.calls.push(`unsubscribe ${userId}`);
  }

  async close(): Promise<void> {}
}

/** Whether a promise has settled yet, for checking what an admission waits for. */
function watch<T>(promise: Promise<T>): { readonly done: boolean; readonly result: Promise<T> } {
  let done = false;
  void promise.then(() => (done = true));
  return {
    get done() {
      return done;
    },
    result: promise,
  };
}

async function flush(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

// The metrics of the test that runs, served as GET /metrics so that they are read as an operator reads them.
let served: Metrics | undefined;
let metricsServer: Server;
let metricsUrl: string;
beforeAll(async () => {
  metricsServer = createServer((_request, response) => {
    void served!.registry.metrics().then((text) => response.end(text));
  });
  await new Promise<void>((resolve) => metricsServer.listen(0, '127.0.0.1', resolve));
  metricsUrl = `http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => metricsServer.close(() => resolve())));

const refusals = (reason = 'limit'): Promise<number> => metricValue(metricsUrl, 'herald_refused_connections_total', { reason });

function setup(limits: Partial<HubLimits> = {}, clusterMax = limits.maxConnectionsPerUser ?? 3) {
  const hub = new Hub<Tab>({ maxConnectionsPerUser: 3, maxConnectionsPerAddress: 10, ...limits });
  const broker = new RecordingBroker();
  const presence = new HeldPresence();
  const metrics = new Metrics({ connections: () => hub.connectionCount, users: () => hub.userCount });
  served = metrics;
  const admission = new Admission({ hub, broker, presence, metrics, maxConnectionsPerUser: clusterMax });
  return { hub, broker, presence, admission };
}

const admitted = { ok: true, value: undefined };
const refusedForUser = { ok: false, error: { code: CloseCode.TooManyConnections, reason: 'Too many connections for this user' } };

describe('Admission: the order of its steps', () => {
  it('registers the tab at once, then waits for the join and the subscription (the join answered first)', async () => {
    const { hub, broker, presence, admission } = setup();
    const a = tab('u');
    const admitting = watch(admission.admit(a));
    // In the hub before anything is awaited: a live event from now on is offered to it.
    expect([...hub.connectionsOf('u')!]).toEqual([a]);
    expect(presence.calls).toEqual(['join u']);
    expect(broker.calls).toEqual(['subscribe u']);
    await flush();
    expect(admitting.done).toBe(false);
    presence.answer(1);
    await flush();
    expect(admitting.done).toBe(false);
    broker.settle();
    expect(await admitting.result).toEqual(admitted);
    expect(await refusals()).toBe(0);
  });

  it('waits for both when the subscription is live first', async () => {
    const { broker, presence, admission } = setup();
    const admitting = watch(admission.admit(tab('u')));
    broker.settle();
    await flush();
    expect(admitting.done).toBe(false);
    presence.answer(1);
    expect(await admitting.result).toEqual(admitted);
  });

  it('makes a second tab wait for the first tab’s subscription while it is under way, and subscribes once', async () => {
    const { broker, presence, admission } = setup();
    const first = watch(admission.admit(tab('u')));
    presence.answer(1);
    const second = watch(admission.admit(tab('u')));
    presence.answer(2);
    await flush();
    expect(first.done).toBe(false);
    expect(second.done).toBe(false);
    broker.settle();
    expect(await first.result).toEqual(admitted);
    expect(await second.result).toEqual(admitted);
    expect(broker.calls).toEqual(['subscribe u']);
  });

  it('lets a tab that comes after the subscription is live wait for its join only', async () => {
    const { broker, presence, admission } = setup();
    const first = admission.admit(tab('u'));
    presence.answer(1);
    broker.settle();
    await first;
    const second = watch(admission.admit(tab('u')));
    await flush();
    expect(second.done).toBe(false);
    presence.answer(2);
    expect(await second.result).toEqual(admitted);
    expect(broker.calls).toEqual(['subscribe u']);
    expect(presence.calls).toEqual(['join u', 'join u']);
  });

  it('makes a new first tab wait for its own subscription, not the one of a tab that left before', async () => {
    const { hub, broker, presence, admission } = setup();
    const gone = tab('u');
    const goneAdmitting = watch(admission.admit(gone));
    presence.answer(1);
    // The tab's socket closed while its subscription was under way: the user has no tab left.
    hub.remove(gone);
    const first = watch(admission.admit(tab('u')));
    presence.answer(1);
    expect(broker.calls).toEqual(['subscribe u', 'unsubscribe u', 'subscribe u']);
    // The old subscription settles now; the new one is still under way and a second tab must wait for it.
    broker.settle();
    await goneAdmitting.result;
    const second = watch(admission.admit(tab('u')));
    presence.answer(2);
    await flush();
    expect(first.done).toBe(false);
    expect(second.done).toBe(false);
    broker.settle();
    expect(await first.result).toEqual(admitted);
    expect(await second.result).toEqual(admitted);
  });
});

describe('Admission: the cluster-wide limit', () => {
  it('refuses when the user’s tabs on every node pass the limit: 4029, out of the hub, out of presence', async () => {
    const { hub, broker, presence, admission } = setup({ maxConnectionsPerUser: 2 });
    const admitting = admission.admit(tab('u'));
    // Two tabs of the user on other nodes, and this one.
    presence.answer(3);
    broker.settle();
    expect(await admitting).toEqual(refusedForUser);
    expect(hub.tabsOf('u')).toBe(0);
    expect(hub.connectionCount).toBe(0);
    expect(presence.calls).toEqual(['join u', 'leave u']);
    // It was the user's only tab here: nothing more is to be routed to this node for them.
    expect(broker.calls).toEqual(['subscribe u', 'unsubscribe u']);
    expect(await refusals()).toBe(1);
  });

  it('admits a tab that makes exactly the limit', async () => {
    const { hub, broker, presence, admission } = setup({ maxConnectionsPerUser: 2 });
    const admitting = admission.admit(tab('u'));
    presence.answer(2);
    broker.settle();
    expect(await admitting).toEqual(admitted);
    expect(hub.tabsOf('u')).toBe(1);
    expect(presence.calls).toEqual(['join u']);
    expect(await refusals()).toBe(0);
  });

  it('refuses a second tab and leaves the first in place, subscribed', async () => {
    const { hub, broker, presence, admission } = setup({ maxConnectionsPerUser: 2 });
    const first = tab('u');
    const admittingFirst = admission.admit(first);
    presence.answer(1);
    broker.settle();
    await admittingFirst;
    const admittingSecond = admission.admit(tab('u'));
    presence.answer(3);
    expect(await admittingSecond).toEqual(refusedForUser);
    expect([...hub.connectionsOf('u')!]).toEqual([first]);
    expect(presence.calls).toEqual(['join u', 'join u', 'leave u']);
    expect(broker.calls).toEqual(['subscribe u']);
  });

  it('uses its own limit, not the hub’s, for the cluster-wide count', async () => {
    const { broker, presence, admission } = setup({ maxConnectionsPerUser: 10 }, 4);
    const admitting = admission.admit(tab('u'));
    presence.answer(5);
    broker.settle();
    expect(await admitting).toEqual(refusedForUser);
  });

  it('leaves presence once for a tab that closed while its join was under way and is then refused', async () => {
    const { hub, broker, presence, admission } = setup({ maxConnectionsPerUser: 2 });
    const a = tab('u');
    const admitting = admission.admit(a);
    hub.remove(a);
    presence.answer(3);
    broker.settle();
    expect(await admitting).toEqual(refusedForUser);
    expect(presence.calls).toEqual(['join u', 'leave u']);
    expect(broker.calls).toEqual(['subscribe u', 'unsubscribe u']);
    expect(hub.connectionCount).toBe(0);
  });
});

describe('Admission: this node’s limits', () => {
  it('refuses past the per-user limit here at once, without asking presence or the broker', async () => {
    const { hub, broker, presence, admission } = setup({ maxConnectionsPerUser: 1 });
    const first = admission.admit(tab('u'));
    presence.answer(1);
    broker.settle();
    await first;
    const refusing = watch(admission.admit(tab('u')));
    await flush();
    expect(refusing.done).toBe(true);
    expect(await refusing.result).toEqual({ ok: false, error: { code: CloseCode.TooManyConnections, reason: TOO_MANY_FOR_USER } });
    expect(hub.tabsOf('u')).toBe(1);
    expect(presence.calls).toEqual(['join u']);
    expect(broker.calls).toEqual(['subscribe u']);
    expect(await refusals()).toBe(1);
  });

  it('refuses past the per-address limit, naming it, and never subscribes for a user it did not take', async () => {
    const { hub, broker, presence, admission } = setup({ maxConnectionsPerAddress: 1 });
    const first = admission.admit(tab('p', '10.7.7.7'));
    presence.answer(1);
    broker.settle();
    await first;
    expect(await admission.admit(tab('q', '10.7.7.7'))).toEqual({
      ok: false,
      error: { code: CloseCode.TooManyConnections, reason: 'Too many connections from this address' },
    });
    expect(TOO_MANY_FROM_ADDRESS).toBe('Too many connections from this address');
    expect(hub.tabsOf('q')).toBe(0);
    expect(presence.calls).toEqual(['join p']);
    expect(broker.calls).toEqual(['subscribe p']);
  });

  it('counts every refusal once, as limit, whichever step refused it, and nothing else', async () => {
    const { broker, presence, admission } = setup({ maxConnectionsPerUser: 1, maxConnectionsPerAddress: 2 });
    const first = admission.admit(tab('u', '10.8.8.1'));
    presence.answer(1);
    broker.settle();
    await first;
    await admission.admit(tab('u', '10.8.8.2'));
    expect(await refusals()).toBe(1);
    const second = admission.admit(tab('v', '10.8.8.1'));
    presence.answer(1);
    broker.settle();
    await second;
    await admission.admit(tab('w', '10.8.8.1'));
    expect(await refusals()).toBe(2);
    const third = admission.admit(tab('x', '10.8.8.3'));
    presence.answer(2);
    broker.settle();
    expect((await third).ok).toBe(false);
    expect(await refusals()).toBe(3);
    expect(await refusals('bad_request')).toBe(0);
  });
});

describe('Admission: the broker’s subscriptions follow the hub', () => {
  it('subscribes for a user’s first tab and unsubscribes after the last, leaving presence for each', async () => {
    const { hub, broker, presence, admission } = setup();
    const [a, b] = [tab('u'), tab('u')];
    const first = admission.admit(a);
    presence.answer(1);
    broker.settle();
    await first;
    const second = admission.admit(b);
    presence.answer(2);
    await second;
    hub.remove(a);
    expect(broker.calls).toEqual(['subscribe u']);
    hub.remove(b);
    expect(broker.calls).toEqual(['subscribe u', 'unsubscribe u']);
    expect(presence.calls).toEqual(['join u', 'join u', 'leave u', 'leave u']);
    // The user comes back: a new first tab, a new subscription.
    const again = admission.admit(tab('u'));
    expect(broker.calls).toEqual(['subscribe u', 'unsubscribe u', 'subscribe u']);
    presence.answer(1);
    broker.settle();
    expect(await again).toEqual(admitted);
  });

  it('keeps each user’s subscription apart', async () => {
    const { hub, broker, presence, admission } = setup();
    const [u, v] = [tab('u'), tab('v')];
    const admittingU = admission.admit(u);
    const admittingV = admission.admit(v);
    presence.answer(1);
    presence.answer(1);
    broker.settle();
    broker.settle();
    await Promise.all([admittingU, admittingV]);
    hub.remove(u);
    expect(broker.calls).toEqual(['subscribe u', 'subscribe v', 'unsubscribe u']);
    expect(presence.calls).toEqual(['join u', 'join v', 'leave u']);
  });
});

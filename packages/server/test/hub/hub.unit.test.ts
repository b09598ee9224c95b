import { CloseCode } from '@herald/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hub, type HubObserver } from '../../src/hub/hub.js';
import type { Connection } from '../../src/transport/connection.js';
import { SocketPairs } from '../helpers/socket-pair.js';

const pairs = new SocketPairs();
beforeAll(() => pairs.start());
afterAll(() => pairs.stop());

let nextId = 1;
async function tab(userId: string, address = '10.0.0.1'): Promise<Connection> {
  return (await pairs.connection(userId, { id: nextId++, address })).connection;
}

function recorder(): HubObserver & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    added: (connection, first) => calls.push(`added ${connection.id} first=${first}`),
    removed: (connection, last) => calls.push(`removed ${connection.id} last=${last}`),
  };
}

const roomy = { maxConnectionsPerUser: 10, maxConnectionsPerAddress: 10 };

describe('Hub', () => {
  it('registers a user’s tabs, one and then several, and lists them', async () => {
    const hub = new Hub(roomy);
    const a = await tab('alice');
    expect(hub.connectionsOf('alice')).toBeUndefined();
    expect(hub.isConnected('alice')).toBe(false);
    expect(hub.admit(a)).toEqual({ ok: true });
    expect([...hub.connectionsOf('alice')!]).toEqual([a]);
    expect(hub.isConnected('alice')).toBe(true);
    const b = await tab('alice');
    const c = await tab('alice');
    const d = await tab('bob');
    hub.admit(b);
    hub.admit(c);
    hub.admit(d);
    expect([...hub.connectionsOf('alice')!]).toEqual([a, b, c]);
    expect(hub.connectedUsers()).toEqual(['alice', 'bob']);
    expect([...hub.all()]).toEqual([a, b, c, d]);
    expect(hub.connectionCount).toBe(4);
    expect(hub.userCount).toBe(2);
  });

  it('admits up to the per-user limit and refuses past it, naming the user limit', async () => {
    const hub = new Hub({ maxConnectionsPerUser: 2, maxConnectionsPerAddress: 10 });
    expect(hub.admit(await tab('u', '10.0.0.1'))).toEqual({ ok: true });
    expect(hub.admit(await tab('u', '10.0.0.2'))).toEqual({ ok: true });
    expect(hub.admit(await tab('u', '10.0.0.3'))).toEqual({
      ok: false,
      code: CloseCode.TooManyConnections,
      reason: 'Too many connections for this user',
    });
    expect(hub.connectionCount).toBe(2);
    expect([...hub.connectionsOf('u')!]).toHaveLength(2);
  });

  it('counts a single tab against a per-user limit of one', async () => {
    const hub = new Hub({ maxConnectionsPerUser: 1, maxConnectionsPerAddress: 10 });
    expect(hub.admit(await tab('solo'))).toEqual({ ok: true });
    expect(hub.admit(await tab('solo')).ok).toBe(false);
  });

  it('admits up to the per-address limit across users and refuses past it, naming the address limit', async () => {
    const hub = new Hub({ maxConnectionsPerUser: 10, maxConnectionsPerAddress: 2 });
    expect(hub.admit(await tab('p', '10.9.9.9')).ok).toBe(true);
    expect(hub.admit(await tab('q', '10.9.9.9')).ok).toBe(true);
    expect(hub.admit(await tab('r', '10.9.9.9'))).toEqual({
      ok: false,
      code: CloseCode.TooManyConnections,
      reason: 'Too many connections from this address',
    });
    expect(hub.isConnected('r')).toBe(false);
    expect(hub.admit(await tab('r', '10.9.9.8')).ok).toBe(true);
  });

  it('gives back an address slot on remove, one at a time', async () => {
    const hub = new Hub({ maxConnectionsPerUser: 10, maxConnectionsPerAddress: 2 });
    const a = await tab('p', '10.1.1.1');
    const b = await tab('q', '10.1.1.1');
    hub.admit(a);
    hub.admit(b);
    hub.remove(a);
    expect(hub.admit(await tab('r', '10.1.1.1')).ok).toBe(true);
    // b and r hold the address again: one removal gave back exactly one slot.
    expect(hub.admit(await tab('s', '10.1.1.1')).ok).toBe(false);
    hub.remove(b);
    const again = await tab('t', '10.1.1.1');
    expect(hub.admit(again).ok).toBe(true);
  });

  it('forgets an address once its last connection left', async () => {
    const hub = new Hub({ maxConnectionsPerUser: 10, maxConnectionsPerAddress: 1 });
    const a = await tab('p', '10.2.2.2');
    hub.admit(a);
    hub.remove(a);
    expect(hub.admit(await tab('q', '10.2.2.2')).ok).toBe(true);
    expect(hub.admit(await tab('r', '10.2.2.2')).ok).toBe(false);
  });

  it('tells the observer of the first and the last tab of a user', async () => {
    const observer = recorder();
    const hub = new Hub(roomy, observer);
    const a = await tab('obs');
    const b = await tab('obs');
    const c = await tab('obs');
    hub.admit(a);
    hub.admit(b);
    hub.admit(c);
    hub.remove(b);
    hub.remove(a);
    hub.remove(c);
    expect(observer.calls).toEqual([
      `added ${a.id} first=true`,
      `added ${b.id} first=false`,
      `added ${c.id} first=false`,
      `removed ${b.id} last=false`,
      `removed ${a.id} last=false`,
      `removed ${c.id} last=true`,
    ]);
    expect(hub.isConnected('obs')).toBe(false);
    expect(hub.connectionCount).toBe(0);
    expect(hub.userCount).toBe(0);
  });

  it('does not tell the observer of a refused connection', async () => {
    const observer = recorder();
    const hub = new Hub({ maxConnectionsPerUser: 1, maxConnectionsPerAddress: 10 }, observer);
    hub.admit(await tab('x'));
    hub.admit(await tab('x'));
    expect(observer.calls).toHaveLength(1);
  });

  it('goes back to the single tab left after the others closed, and keeps listing it', async () => {
    const hub = new Hub(roomy);
    const a = await tab('back');
    const b = await tab('back');
    hub.admit(a);
    hub.admit(b);
    hub.remove(a);
    expect([...hub.connectionsOf('back')!]).toEqual([b]);
    expect([...hub.all()]).toEqual([b]);
    const c = await tab('back');
    hub.admit(c);
    expect([...hub.connectionsOf('back')!]).toEqual([b, c]);
    hub.remove(c);
    hub.remove(b);
    expect(hub.connectionsOf('back')).toBeUndefined();
  });

  it('ignores the removal of a connection it does not hold', async () => {
    const observer = recorder();
    const hub = new Hub(roomy, observer);
    const held = await tab('held', '10.3.3.3');
    const other = await tab('held', '10.3.3.3');
    const stranger = await tab('stranger', '10.3.3.3');
    hub.remove(stranger);
    hub.admit(held);
    // Same user, one tab held (not a Set), and a second connection that was never admitted.
    hub.remove(other);
    expect(hub.connectionCount).toBe(1);
    hub.admit(await tab('held', '10.3.3.3'));
    hub.remove(stranger);
    expect(hub.connectionCount).toBe(2);
    expect(observer.calls.filter((call) => call.startsWith('removed'))).toEqual([]);
    expect([...hub.connectionsOf('held')!]).toHaveLength(2);
  });

  it('keeps the address count of a removed unknown connection untouched', async () => {
    const hub = new Hub({ maxConnectionsPerUser: 10, maxConnectionsPerAddress: 1 });
    const a = await tab('m', '10.4.4.4');
    hub.admit(a);
    hub.remove(await tab('n', '10.4.4.4'));
    expect(hub.admit(await tab('o', '10.4.4.4')).ok).toBe(false);
  });
});

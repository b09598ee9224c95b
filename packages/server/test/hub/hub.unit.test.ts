import { describe, expect, it } from 'vitest';
import { Hub, TOO_MANY_FOR_USER, TOO_MANY_FROM_ADDRESS, type HubEntry, type HubObserver } from '../../src/hub/hub.js';

/** The hub only needs whose a connection is and where it comes from; a numbered entry stands for a tab. */
interface Tab extends HubEntry {
  readonly id: number;
}

let nextId = 1;
function tab(userId: string, address = '10.0.0.1'): Tab {
  return { id: nextId++, userId, address };
}

function recorder(): HubObserver<Tab> & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    added: (entry, first) => calls.push(`added ${entry.id} first=${first}`),
    removed: (entry, last) => calls.push(`removed ${entry.id} last=${last}`),
  };
}

const roomy = { maxConnectionsPerUser: 10, maxConnectionsPerAddress: 10 };

describe('Hub', () => {
  it('registers a user’s tabs, one and then several, and lists them', () => {
    const hub = new Hub<Tab>(roomy);
    const a = tab('alice');
    expect(hub.connectionsOf('alice')).toBeUndefined();
    expect(hub.tabsOf('alice')).toBe(0);
    expect(hub.add(a)).toBeUndefined();
    expect([...hub.connectionsOf('alice')!]).toEqual([a]);
    expect(hub.tabsOf('alice')).toBe(1);
    const b = tab('alice');
    const c = tab('alice');
    const d = tab('bob');
    expect(hub.add(b)).toBeUndefined();
    expect(hub.add(c)).toBeUndefined();
    expect(hub.add(d)).toBeUndefined();
    expect([...hub.connectionsOf('alice')!]).toEqual([a, b, c]);
    expect(hub.tabsOf('alice')).toBe(3);
    expect(hub.tabsOf('bob')).toBe(1);
    expect([...hub.users()]).toEqual(['alice', 'bob']);
    expect([...hub.all()]).toEqual([a, b, c, d]);
    expect(hub.connectionCount).toBe(4);
    expect(hub.userCount).toBe(2);
  });

  it('adds up to the per-user limit and refuses past it, naming the user limit', () => {
    const hub = new Hub<Tab>({ maxConnectionsPerUser: 2, maxConnectionsPerAddress: 10 });
    expect(hub.add(tab('u', '10.0.0.1'))).toBeUndefined();
    expect(hub.add(tab('u', '10.0.0.2'))).toBeUndefined();
    // The reason is the close reason the client gets: its text is part of the wire.
    expect(hub.add(tab('u', '10.0.0.3'))).toBe('Too many connections for this user');
    expect(TOO_MANY_FOR_USER).toBe('Too many connections for this user');
    expect(hub.connectionCount).toBe(2);
    expect(hub.tabsOf('u')).toBe(2);
    expect([...hub.connectionsOf('u')!]).toHaveLength(2);
  });

  it('counts a single tab against a per-user limit of one', () => {
    const hub = new Hub<Tab>({ maxConnectionsPerUser: 1, maxConnectionsPerAddress: 10 });
    expect(hub.add(tab('solo'))).toBeUndefined();
    expect(hub.add(tab('solo'))).toBe(TOO_MANY_FOR_USER);
  });

  it('adds up to the per-address limit across users and refuses past it, naming the address limit', () => {
    const hub = new Hub<Tab>({ maxConnectionsPerUser: 10, maxConnectionsPerAddress: 2 });
    expect(hub.add(tab('p', '10.9.9.9'))).toBeUndefined();
    expect(hub.add(tab('q', '10.9.9.9'))).toBeUndefined();
    expect(hub.add(tab('r', '10.9.9.9'))).toBe('Too many connections from this address');
    expect(TOO_MANY_FROM_ADDRESS).toBe('Too many connections from this address');
    expect(hub.tabsOf('r')).toBe(0);
    expect([...hub.users()]).toEqual(['p', 'q']);
    expect(hub.add(tab('r', '10.9.9.8'))).toBeUndefined();
  });

  it('names the user limit when both limits are reached', () => {
    const hub = new Hub<Tab>({ maxConnectionsPerUser: 1, maxConnectionsPerAddress: 1 });
    hub.add(tab('both', '10.5.5.5'));
    expect(hub.add(tab('both', '10.5.5.5'))).toBe(TOO_MANY_FOR_USER);
  });

  it('gives back an address slot on remove, one at a time', () => {
    const hub = new Hub<Tab>({ maxConnectionsPerUser: 10, maxConnectionsPerAddress: 2 });
    const a = tab('p', '10.1.1.1');
    const b = tab('q', '10.1.1.1');
    hub.add(a);
    hub.add(b);
    hub.remove(a);
    expect(hub.add(tab('r', '10.1.1.1'))).toBeUndefined();
    // b and r hold the address again: one removal gave back exactly one slot.
    expect(hub.add(tab('s', '10.1.1.1'))).toBe(TOO_MANY_FROM_ADDRESS);
    hub.remove(b);
    expect(hub.add(tab('t', '10.1.1.1'))).toBeUndefined();
  });

  it('forgets an address once its last connection left', () => {
    const hub = new Hub<Tab>({ maxConnectionsPerUser: 10, maxConnectionsPerAddress: 1 });
    const a = tab('p', '10.2.2.2');
    hub.add(a);
    hub.remove(a);
    expect(hub.add(tab('q', '10.2.2.2'))).toBeUndefined();
    expect(hub.add(tab('r', '10.2.2.2'))).toBe(TOO_MANY_FROM_ADDRESS);
  });

  it('gives back a user slot on remove', () => {
    const hub = new Hub<Tab>({ maxConnectionsPerUser: 2, maxConnectionsPerAddress: 10 });
    const a = tab('v');
    hub.add(a);
    hub.add(tab('v'));
    hub.remove(a);
    expect(hub.add(tab('v'))).toBeUndefined();
    expect(hub.add(tab('v'))).toBe(TOO_MANY_FOR_USER);
  });

  it('tells every observer, in the order they came, of the first and the last tab of a user', () => {
    const observer = recorder();
    const second = recorder();
    const hub = new Hub<Tab>(roomy);
    hub.observe(observer);
    hub.observe(second);
    const a = tab('obs');
    const b = tab('obs');
    const c = tab('obs');
    hub.add(a);
    hub.add(b);
    hub.add(c);
    hub.remove(b);
    hub.remove(a);
    hub.remove(c);
    const expected = [
      `added ${a.id} first=true`,
      `added ${b.id} first=false`,
      `added ${c.id} first=false`,
      `removed ${b.id} last=false`,
      `removed ${a.id} last=false`,
      `removed ${c.id} last=true`,
    ];
    expect(observer.calls).toEqual(expected);
    expect(second.calls).toEqual(expected);
    expect(hub.tabsOf('obs')).toBe(0);
    expect([...hub.users()]).toEqual([]);
    expect(hub.connectionCount).toBe(0);
    expect(hub.userCount).toBe(0);
  });

  it('tells its observers once the change is made, so that they read the hub as it now is', () => {
    const hub = new Hub<Tab>(roomy);
    const seen: string[] = [];
    hub.observe({
      added: (entry) => seen.push(`added: ${hub.tabsOf(entry.userId)} tabs, ${hub.connectionCount} in all`),
      removed: (entry) => seen.push(`removed: ${hub.tabsOf(entry.userId)} tabs, ${hub.connectionCount} in all`),
    });
    const a = tab('now');
    hub.add(a);
    hub.add(tab('now'));
    hub.remove(a);
    expect(seen).toEqual(['added: 1 tabs, 1 in all', 'added: 2 tabs, 2 in all', 'removed: 1 tabs, 1 in all']);
  });

  it('does not tell its observers of a refused connection', () => {
    const observer = recorder();
    const hub = new Hub<Tab>({ maxConnectionsPerUser: 1, maxConnectionsPerAddress: 1 });
    hub.observe(observer);
    hub.add(tab('x', '10.6.6.6'));
    hub.add(tab('x', '10.6.6.7'));
    hub.add(tab('y', '10.6.6.6'));
    expect(observer.calls).toHaveLength(1);
  });

  it('goes back to the single tab left after the others closed, and keeps listing it', () => {
    const hub = new Hub<Tab>(roomy);
    const a = tab('back');
    const b = tab('back');
    hub.add(a);
    hub.add(b);
    // Several tabs are a Set; one is held on its own (most users have one tab, and a Set costs more than it).
    expect(hub.connectionsOf('back')).toBeInstanceOf(Set);
    hub.remove(a);
    expect(hub.connectionsOf('back')).not.toBeInstanceOf(Set);
    expect([...hub.connectionsOf('back')!]).toEqual([b]);
    expect([...hub.all()]).toEqual([b]);
    expect(hub.tabsOf('back')).toBe(1);
    const c = tab('back');
    hub.add(c);
    expect([...hub.connectionsOf('back')!]).toEqual([b, c]);
    hub.remove(c);
    hub.remove(b);
    expect(hub.connectionsOf('back')).toBeUndefined();
  });

  it('keeps a Set while more than one tab is left', () => {
    const hub = new Hub<Tab>(roomy);
    const [a, b, c] = [tab('three'), tab('three'), tab('three')];
    hub.add(a);
    hub.add(b);
    hub.add(c);
    hub.remove(b);
    expect([...hub.connectionsOf('three')!]).toEqual([a, c]);
    expect(hub.tabsOf('three')).toBe(2);
  });

  it('ignores the removal of a connection it does not hold', () => {
    const observer = recorder();
    const hub = new Hub<Tab>(roomy);
    hub.observe(observer);
    const held = tab('held', '10.3.3.3');
    const other = tab('held', '10.3.3.3');
    const stranger = tab('stranger', '10.3.3.3');
    hub.remove(stranger);
    hub.add(held);
    // Same user, one tab held (not a Set), and a second connection that was never added.
    hub.remove(other);
    expect(hub.connectionCount).toBe(1);
    expect(hub.tabsOf('held')).toBe(1);
    hub.add(tab('held', '10.3.3.3'));
    // The user has a Set now; a stranger of the same user is not in it.
    hub.remove(other);
    hub.remove(stranger);
    expect(hub.connectionCount).toBe(2);
    expect(observer.calls.filter((call) => call.startsWith('removed'))).toEqual([]);
    expect([...hub.connectionsOf('held')!]).toHaveLength(2);
  });

  it('ignores a second removal of the same connection', () => {
    const observer = recorder();
    const hub = new Hub<Tab>(roomy);
    hub.observe(observer);
    const a = tab('twice');
    hub.add(a);
    hub.remove(a);
    hub.remove(a);
    expect(observer.calls).toEqual([`added ${a.id} first=true`, `removed ${a.id} last=true`]);
    expect(hub.connectionCount).toBe(0);
  });

  it('keeps the address count of a removed unknown connection untouched', () => {
    const hub = new Hub<Tab>({ maxConnectionsPerUser: 10, maxConnectionsPerAddress: 1 });
    hub.add(tab('m', '10.4.4.4'));
    hub.remove(tab('n', '10.4.4.4'));
    expect(hub.add(tab('o', '10.4.4.4'))).toBe(TOO_MANY_FROM_ADDRESS);
  });
});

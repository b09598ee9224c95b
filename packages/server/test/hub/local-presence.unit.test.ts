import { describe, expect, it } from 'vitest';
import type { Presence } from '../../src/cluster/presence.js';
import { Hub, type HubEntry } from '../../src/hub/hub.js';
import { LocalPresence } from '../../src/hub/local-presence.js';

const roomy = { maxConnectionsPerUser: 10, maxConnectionsPerAddress: 10 };
const tab = (userId: string): HubEntry => ({ userId, address: '10.0.0.1' });

describe('LocalPresence', () => {
  it('answers a join with the user’s tabs in the hub, the one just added included', async () => {
    const hub = new Hub(roomy);
    const presence = new LocalPresence(hub);
    hub.add(tab('u'));
    expect(await presence.join('u')).toBe(1);
    hub.add(tab('u'));
    expect(await presence.join('u')).toBe(2);
    expect(await presence.join('nobody')).toBe(0);
  });

  it('counts at the moment of the join, as the hub’s observer calls it, not when the answer is read', async () => {
    const hub = new Hub(roomy);
    const presence = new LocalPresence(hub);
    const joins: Promise<number>[] = [];
    hub.observe({ added: (entry) => joins.push(presence.join(entry.userId)), removed: () => {} });
    hub.add(tab('u'));
    hub.add(tab('u'));
    hub.add(tab('u'));
    expect(await Promise.all(joins)).toEqual([1, 2, 3]);
  });

  it('leaves the counting to the hub: leave changes nothing', async () => {
    const hub = new Hub(roomy);
    // Called as Admission calls it, through the interface.
    const presence: Presence = new LocalPresence(hub);
    hub.add(tab('u'));
    presence.leave('u');
    expect(await presence.join('u')).toBe(1);
    expect(presence.isConnected('u')).toBe(true);
  });

  it('tells who is connected from the hub, and forgets a user whose last tab left', async () => {
    const hub = new Hub(roomy);
    const presence = new LocalPresence(hub);
    expect(presence.isConnected('u')).toBe(false);
    expect(presence.connectedUsers()).toEqual([]);
    const u = tab('u');
    hub.add(u);
    hub.add(tab('v'));
    expect(presence.isConnected('u')).toBe(true);
    expect(presence.connectedUsers()).toEqual(['u', 'v']);
    hub.remove(u);
    expect(presence.isConnected('u')).toBe(false);
    expect(presence.connectedUsers()).toEqual(['v']);
  });

  it('closes with nothing to take down, and still answers from the hub', async () => {
    const hub = new Hub(roomy);
    const presence = new LocalPresence(hub);
    hub.add(tab('u'));
    await expect(presence.close()).resolves.toBeUndefined();
    expect(presence.isConnected('u')).toBe(true);
  });
});

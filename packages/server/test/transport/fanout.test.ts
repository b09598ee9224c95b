import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../helpers/databases.js';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { TestClient } from '../helpers/ws-client.js';

describe.each(databaseKinds)('fan-out to every tab (%s)', (kind) => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway(kind);
  });
  afterAll(() => gateway.close());

  it('pushes a published notification to every tab of its user and to no other user', async () => {
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    const tabs = await Promise.all([1, 2, 3].map(async () => TestClient.open(gateway.wsUrl, await gateway.token(alice))));
    const other = await TestClient.open(gateway.wsUrl, await gateway.token(bob));
    await Promise.all([...tabs, other].map((tab) => tab.waitForType('connected')));

    const response = await gateway.publish({ user_id: alice, type: 'new_notification', payload: { title: 'Build passed' } });
    expect(response.status).toBe(200);

    for (const tab of tabs) {
      const [event] = await tab.waitForSeq(1);
      expect(event).toMatchObject({ type: 'new_notification', seq: 1, payload: { status: 'unread', payload: { title: 'Build passed' } } });
      expect(event?.payload.id).toBe(response.body.events[0].notification_id);
    }
    // A second publish to bob proves bob's socket works and got nothing of alice's before it.
    await gateway.publish({ user_id: bob, type: 'task_update', payload: { action: 'created', task: { id: 7 } } });
    const bobEvents = await other.waitForSeq(1);
    expect(bobEvents).toEqual([{ type: 'task_update', seq: 1, payload: { action: 'created', task: { id: 7 } } }]);
    await Promise.all([...tabs, other].map((tab) => tab.close()));
  });
});

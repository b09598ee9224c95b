import { handshakeProtocols } from '@herald/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../helpers/databases.js';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { hs256, nowS } from '../helpers/hs256.js';
import { TestClient } from '../helpers/ws-client.js';
import { acceptedIdentifiers, refusedIdentifiers } from '../http/identifier-forms.js';

// A token's sub is a user id by the one rule (src/identifiers.ts): on the WebSocket, in the query or as a
// subprotocol, a sub the databases would not store alike is 4001; any other is that very user, on both databases.

const tokenFor = (sub: string) => hs256({ sub, iat: nowS(), exp: nowS() + 600 });

describe.each(databaseKinds)('token subs on the WebSocket on %s', (kind) => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway(kind);
  });
  afterAll(() => gateway.close());

  it.each(refusedIdentifiers)('closes a token whose sub is $name with 4001, in the query and as a subprotocol', async ({ value }) => {
    const token = await tokenFor(value);
    for (const client of [
      await TestClient.connect(`${gateway.wsUrl}?${new URLSearchParams({ token })}`),
      await TestClient.connect(gateway.wsUrl, { protocols: handshakeProtocols(token) }),
    ]) {
      expect(await client.closed).toEqual({ code: 4001, reason: 'Unauthorized' });
      expect(client.frames).toEqual([]);
    }
  });

  it.each(acceptedIdentifiers)('connects a token whose sub is $name as exactly that user, who receives their events', async ({ value }) => {
    const client = await TestClient.connect(gateway.wsUrl, { protocols: handshakeProtocols(await tokenFor(value)) });
    try {
      const [connected] = await client.waitForType('connected');
      expect(Buffer.from(connected!.payload.user_id)).toEqual(Buffer.from(value));
      const published = await gateway.publish({ user_id: value, type: 'task_update', payload: { to: value } });
      expect(published.status).toBe(200);
      const events = await client.waitForSeq(published.body.events[0].seq);
      expect(events.at(-1)).toMatchObject({ type: 'task_update', payload: { to: value } });
    } finally {
      await client.close();
    }
  });

  it('refuses a refresh whose sub is not an identifier with an error frame, and keeps the connection', async () => {
    const user = uniqueUser('refresher');
    const client = await TestClient.open(gateway.wsUrl, await tokenFor(user));
    try {
      await client.waitForType('connected');
      for (const [index, value] of ['a\u0000b', 'a\uD800b', ''].entries()) {
        client.send({ type: 'refresh', payload: { token: await tokenFor(value) } });
        const errors = await client.waitForType('error', index + 1);
        expect(errors[index]!.payload.message).toBe('Refresh refused: Token has no usable sub claim');
      }
      await gateway.publish({ user_id: user, type: 'task_update', payload: { still: 'open' } });
      expect((await client.waitForSeq(1)).at(-1)).toMatchObject({ payload: { still: 'open' } });
    } finally {
      await client.close();
    }
  });
});

import { ErrorCode } from '@herald/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../helpers/databases.js';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { hs256, nowS } from '../helpers/hs256.js';
import { httpRequest } from '../helpers/http-request.js';
import { acceptedIdentifiers, refusedIdentifiers } from './identifier-forms.js';

// Every identifier that enters Herald over HTTP (a publish item's user_id and id, a token's sub, a mark-read id)
// is refused at the edge when the two databases would not store it alike, and stored and read back unchanged
// otherwise: the same answers on SQLite and PostgreSQL, never a 500.

const item = (userId: string, extra: Record<string, unknown> = {}) => ({ user_id: userId, type: 'new_notification', payload: { n: 1 }, ...extra });

/** A token for `sub` as it is: mintToken would do too, this one states the claims. */
const tokenFor = (sub: string) => hs256({ sub, iat: nowS(), exp: nowS() + 600 });

describe.each(databaseKinds)('identifiers over HTTP on %s', (kind) => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway(kind);
  });
  afterAll(() => gateway.close());

  it.each(refusedIdentifiers)('publish refuses $name as user_id with 400, storing nothing of its batch', async ({ value }) => {
    const bystander = uniqueUser('bystander');
    const response = await gateway.publish([item(bystander), item(value)]);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: ErrorCode.BadRequest, message: expect.stringMatching(/^body\[1\]\.user_id /) });
    expect((await gateway.asUser(bystander, '/notifications')).body.items).toEqual([]);
  });

  it.each(refusedIdentifiers)('publish refuses $name as id with 400, storing nothing', async ({ value }) => {
    const user = uniqueUser('keyed');
    const response = await gateway.publish(item(user, { id: value }));
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: ErrorCode.BadRequest, message: expect.stringMatching(/^body\.id /) });
    expect((await gateway.asUser(user, '/notifications')).body.items).toEqual([]);
  });

  it.each(refusedIdentifiers)('a token whose sub is $name is 401 on every user route', async ({ value }) => {
    const token = await tokenFor(value);
    const refused = { status: 401, body: { error: ErrorCode.Unauthorized, message: 'Token has no usable sub claim' } };
    for (const [method, path, body] of [
      ['GET', '/notifications', undefined],
      ['GET', '/notifications/unread-count', undefined],
      ['POST', '/notifications/mark-read', { notification_ids: ['x'] }],
      ['POST', '/notifications/mark-all-read', {}],
    ] as const) {
      const response = await httpRequest(gateway.baseUrl, path, { method, bearer: token, body });
      expect({ path, status: response.status, body: response.body }).toEqual({ path, ...refused });
    }
  });

  it('a sub with a lone surrogate does not read the inbox of the user whose id has U+FFFD there', async () => {
    // Both drivers would bind "eve\uD800" as "eve\uFFFD": before the rule, this token listed the twin's inbox.
    const twin = `eve-${uniqueUser()}-\uFFFD`;
    expect((await gateway.publish(item(twin, { payload: { secret: true } }))).status).toBe(200);
    expect((await gateway.asUser(twin, '/notifications')).body.items).toHaveLength(1);
    for (const lone of ['\uD800', '\uDFFF', '\uD83D']) {
      const response = await httpRequest(gateway.baseUrl, '/notifications', { bearer: await tokenFor(twin.replace('\uFFFD', lone)) });
      expect(response.status).toBe(401);
      expect(JSON.stringify(response.body)).not.toContain('secret');
    }
  });

  it.each(refusedIdentifiers)('mark-read refuses $name as a notification id with 400', async ({ value }) => {
    const response = await gateway.asUser(uniqueUser('reader'), '/notifications/mark-read', {
      body: { notification_ids: ['a-good-one', value] },
    });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: ErrorCode.BadRequest, message: expect.stringMatching(/^body\.notification_ids\.1 /) });
  });

  it.each(acceptedIdentifiers)('$name is taken as user id, id and sub, and read back unchanged', async ({ value }) => {
    // One user per database run: the same value may be in a user id and a key of several of these tests.
    const response = await gateway.publish(item(value, { id: value, payload: { echo: value } }));
    expect(response.status).toBe(200);
    expect(response.body.events).toEqual([expect.objectContaining({ user_id: value, seq: expect.any(Number) })]);
    expect(response.body.stored).toBe(1);

    // The token names the same user: the database found the rows by exactly these bytes.
    const token = await tokenFor(value);
    const page = await httpRequest(gateway.baseUrl, '/notifications', { bearer: token });
    expect(page.status).toBe(200);
    expect(page.body.items).toHaveLength(1);
    const [stored] = page.body.items;
    expect(Buffer.from(stored.key)).toEqual(Buffer.from(value));
    expect(stored.payload).toEqual({ echo: value });

    // The key matches only itself: the same id again is a duplicate.
    expect((await gateway.publish(item(value, { id: value }))).body.stored).toBe(0);
    const read = await httpRequest(gateway.baseUrl, '/notifications/mark-read', {
      bearer: token,
      body: { notification_ids: [stored.id, value] },
    });
    expect(read).toMatchObject({ status: 200, body: { notification_ids: [stored.id] } });
  });
});

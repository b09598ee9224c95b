import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../helpers/databases.js';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { httpRequest } from '../helpers/http-request.js';
import { InboxApi } from '../helpers/inbox-api.js';

describe.each(databaseKinds)('inbox v2: edges (%s)', (kind) => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway(kind);
  });
  afterAll(() => gateway.close());

  it('refuses an expires_at whose instant is in year 0000 UTC, alike on both databases', async () => {
    const api = new InboxApi(gateway, uniqueUser('year-zero'));
    for (const expires_at of ['0001-01-01T00:30:00+01:00', '0000-06-01T00:00:00Z']) {
      const response = await gateway.publish({ user_id: api.userId, type: 'new_notification', payload: {}, expires_at });
      expect({ expires_at, status: response.status, message: response.body.message }).toEqual({
        expires_at,
        status: 400,
        message: 'body.expires_at must be in the years 0001 to 9999 (UTC)',
      });
    }
  });

  it('refuses an unknown field in the body of POST /notifications/{id}/actions/{action_id}', async () => {
    const api = new InboxApi(gateway, uniqueUser('action-body'));
    const [id] = await api.publish([{ actions: [{ id: 'a', label: 'A' }] }]);
    const response = await httpRequest(gateway.baseUrl, `/notifications/${id}/actions/a`, { bearer: await gateway.token(api.userId), body: { user_id: 'someone-else' } });
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(/body\.user_id is not allowed/);
    expect((await api.record(id!)).actioned).toBeNull();
  });
});

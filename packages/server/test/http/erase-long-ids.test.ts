// A path parameter as long as an identifier may be: the router once refused ids over 100 characters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, TEST_API_KEY, type TestGateway } from '../helpers/gateway.js';
import { httpRequest } from '../helpers/http-request.js';

describe('DELETE /users/{user_id} with a long valid user id', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway('sqlite');
  });
  afterAll(() => gateway.close());
  it.each([
    ['101 ASCII characters', 'x'.repeat(101)],
    ['255 ASCII characters', 'x'.repeat(255)],
    ['9 emoji (108 characters percent-encoded)', '😀'.repeat(9)],
    ['20 CJK characters (180 percent-encoded)', '日'.repeat(20)],
    ['255 emoji', '😀'.repeat(255)],
  ])('erases a user whose id is %s', async (_name, userId) => {
    expect((await gateway.publish({ user_id: userId, type: 'new_notification', payload: {} })).body.stored).toBe(1);
    const response = await httpRequest(gateway.baseUrl, `/users/${encodeURIComponent(userId)}`, { method: 'DELETE', bearer: TEST_API_KEY });
    expect(response.body).toEqual({ erased: true });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, TEST_API_KEY, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { httpRequest } from '../helpers/http-request.js';
import { startStoppablePostgres, type StoppablePostgres } from '../helpers/stoppable-postgres.js';
import { waitUntil } from '../helpers/wait-until.js';
import { TestClient } from '../helpers/ws-client.js';

/** The value of one sample in Prometheus text, 0 when the metric has no sample yet. */
function metric(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}${labels} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

describe('health, metrics and the OpenAPI document', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway('sqlite');
  });
  afterAll(() => gateway.close());

  const scrape = async (): Promise<string> => {
    const response = await httpRequest(gateway.baseUrl, '/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    return response.text;
  };

  it('answers /healthz and /readyz without a token', async () => {
    expect(await httpRequest(gateway.baseUrl, '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await httpRequest(gateway.baseUrl, '/readyz')).toMatchObject({ status: 200, body: { status: 'ready', database: 'ok' } });
  });

  it('exposes every Herald metric in Prometheus format', async () => {
    const text = await scrape();
    for (const [name, type] of [
      ['herald_connections', 'gauge'],
      ['herald_users', 'gauge'],
      ['herald_messages_in_total', 'counter'],
      ['herald_messages_out_total', 'counter'],
      ['herald_drops_total', 'counter'],
      ['herald_auth_failures_total', 'counter'],
    ]) {
      expect(text).toContain(`# TYPE ${name} ${type}\n`);
      expect(text).toMatch(new RegExp(`^# HELP ${name} \\S`, 'm'));
    }
  });

  it('counts connections, users, frames in and out and auth failures as they happen', async () => {
    const before = await scrape();
    const user = uniqueUser('metrics');
    const client = await TestClient.open(gateway.wsUrl, await gateway.token(user));
    await client.waitForType('connected');
    client.send({ type: 'ping', payload: {} });
    client.send('not json');
    await client.waitForType('pong');
    await client.waitForType('error');
    await gateway.publish({ user_id: user, type: 'new_notification', payload: { title: 'counted' } });
    await client.waitForSeq(1);

    // Two refused REST requests and one refused WebSocket.
    await httpRequest(gateway.baseUrl, '/notifications', { bearer: 'garbage' });
    await httpRequest(gateway.baseUrl, '/notifications/unread-count');
    const refused = await TestClient.open(gateway.wsUrl, 'garbage');
    expect((await refused.closed).code).toBe(4001);
    // A wrong publish key is an auth failure too.
    await httpRequest(gateway.baseUrl, '/publish', { bearer: `${TEST_API_KEY}-wrong`, body: {} });

    const during = await scrape();
    expect(metric(during, 'herald_connections')).toBe(1);
    expect(metric(during, 'herald_users')).toBe(1);
    expect(metric(during, 'herald_messages_in_total') - metric(before, 'herald_messages_in_total')).toBe(2);
    // connected, pong, error, new_notification.
    expect(metric(during, 'herald_messages_out_total') - metric(before, 'herald_messages_out_total')).toBe(4);
    expect(metric(during, 'herald_auth_failures_total') - metric(before, 'herald_auth_failures_total')).toBe(4);

    await client.close();
    await waitUntil(async () => metric(await scrape(), 'herald_connections') === 0, 'the closed connection leaves the gauge');
    expect(metric(await scrape(), 'herald_users')).toBe(0);
  });

  it('serves an OpenAPI 3 document of the REST API with the request schemas that validate it', async () => {
    const response = await httpRequest(gateway.baseUrl, '/openapi.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = response.body;
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });

    const operations: Array<[string, string]> = [
      ['/notifications', 'get'],
      ['/notifications/unread-count', 'get'],
      ['/notifications/mark-read', 'post'],
      ['/notifications/mark-all-read', 'post'],
      ['/notifications/counts', 'get'],
      ['/notifications/mark-seen', 'post'],
      ['/notifications/mark-unread', 'post'],
      ['/notifications/archive', 'post'],
      ['/notifications/unarchive', 'post'],
      ['/notifications/delete', 'post'],
      ['/notifications/{id}/actions/{action_id}', 'post'],
      ['/publish', 'post'],
      ['/broadcast', 'post'],
      ['/users/{user_id}', 'delete'],
    ];
    for (const [path, method] of operations) {
      const operation = doc.paths[path]?.[method];
      expect(operation, `${method.toUpperCase()} ${path}`).toBeDefined();
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '401']));
      expect(operation.security).toEqual([path.startsWith('/notifications') ? { userToken: [] } : { apiKey: [] }]);
    }
    for (const scheme of ['userToken', 'apiKey']) {
      expect(doc.components.securitySchemes[scheme]).toMatchObject({ type: 'http', scheme: 'bearer' });
    }
    // The document does not advertise what is not there: the WebSocket endpoint is left out; the ops endpoints,
    // open to anyone, are in it (openapi-lint.test.ts).
    expect(Object.keys(doc.paths).sort()).toEqual([...operations.map(([path]) => path), '/healthz', '/metrics', '/readyz'].sort());

    // A shared schema is under components, referred to by $ref.
    const resolved = (schema: { $ref?: string }): any =>
      schema.$ref === undefined ? schema : doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')];
    const bodySchema = (path: string) => resolved(doc.paths[path].post.requestBody.content['application/json'].schema);
    const publish = bodySchema('/publish');
    const variants: any[] = publish.anyOf ?? publish.oneOf;
    const item = variants.find((variant) => variant.type === 'object');
    const batch = variants.find((variant) => variant.type === 'array');
    expect(item.required).toEqual(expect.arrayContaining(['user_id', 'type', 'payload']));
    expect(item.required).not.toContain('id');
    expect(item.additionalProperties).toBe(false);
    expect(item.properties.type.enum).toEqual(['new_notification', 'task_update']);
    expect(item.properties.user_id).toMatchObject({ type: 'string', minLength: 1 });
    expect(batch).toMatchObject({ minItems: 1, maxItems: 1000, items: { required: expect.arrayContaining(['user_id']) } });

    // A change takes ids or a filter: neither is required by the schema, the route refuses neither and both.
    const markRead = bodySchema('/notifications/mark-read');
    expect(markRead.required).toBeUndefined();
    expect(markRead.additionalProperties).toBe(false);
    expect(markRead.properties.notification_ids).toMatchObject({ type: 'array', items: { type: 'string' } });
    expect(Object.keys(markRead.properties.filter.properties)).toEqual(['category', 'status']);
    expect(bodySchema('/broadcast').required).toEqual(expect.arrayContaining(['type', 'payload']));

    const parameters = doc.paths['/notifications'].get.parameters;
    expect(parameters.map((parameter: { name: string; in: string }) => `${parameter.in}:${parameter.name}`).sort()).toEqual([
      'query:archived',
      'query:category',
      'query:cursor',
      'query:limit',
      'query:status',
    ]);
    const limit = parameters.find((parameter: { name: string }) => parameter.name === 'limit');
    expect(limit.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
    const page = resolved(doc.paths['/notifications'].get.responses['200'].content['application/json'].schema);
    expect(page.required).toEqual(expect.arrayContaining(['items', 'next_cursor']));
  });
});

describe('readiness', () => {
  it('is 503 while shutting down, while clients are still being closed', async () => {
    const gateway = await startGateway('sqlite', { env: { HERALD_SHUTDOWN_TIMEOUT_MS: '15000' } });
    const client = await TestClient.open(gateway.wsUrl, await gateway.token(uniqueUser('drain')));
    await client.waitForType('connected');
    // A client that does not read keeps the shutdown waiting for its close handshake.
    client.ws.pause();
    const closing = gateway.close();
    try {
      const response = await httpRequest(gateway.baseUrl, '/readyz');
      expect(response).toMatchObject({ status: 503, body: { status: 'draining' } });
    } finally {
      client.ws.resume();
      expect((await client.closed).code).toBe(1012);
      await closing;
    }
  });

  describe('while PostgreSQL goes away and comes back', () => {
    let postgres: StoppablePostgres;
    let gateway: TestGateway;

    beforeAll(async () => {
      postgres = await startStoppablePostgres();
      gateway = await startGateway('postgres', { databaseUrl: postgres.url });
    });

    afterAll(async () => {
      await gateway?.close();
      await postgres?.remove();
    });

    it('answers 200, then 503 while the database is down, then 200 again, with nothing lost', async () => {
      const user = uniqueUser('ready');
      expect(await httpRequest(gateway.baseUrl, '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
      const published = await gateway.publish({ user_id: user, type: 'new_notification', payload: { title: 'before' } });
      expect(published.status).toBe(200);

      await postgres.stop();
      const down = await httpRequest(gateway.baseUrl, '/readyz');
      expect(down).toMatchObject({ status: 503, body: { status: 'unavailable', database: 'unreachable' } });
      // Liveness is not readiness: the process itself is fine.
      expect((await httpRequest(gateway.baseUrl, '/healthz')).status).toBe(200);
      const failed = await gateway.publish({ user_id: user, type: 'new_notification', payload: { title: 'while down' } });
      expect(failed.status).toBe(503);
      expect(failed.body).toEqual({ error: 'unavailable', message: expect.any(String) });
      expect(JSON.stringify(failed.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|herald@/);

      await postgres.start();
      expect(await httpRequest(gateway.baseUrl, '/readyz')).toMatchObject({ status: 200, body: { status: 'ready', database: 'ok' } });
      const after = await gateway.publish({ user_id: user, type: 'new_notification', payload: { title: 'after' } });
      expect(after.body.events[0].seq).toBe(2);
      const items = (await gateway.asUser(user, '/notifications')).body.items;
      expect(items.map((item: { payload: { title: string } }) => item.payload.title)).toEqual(['after', 'before']);
    });
  });
});

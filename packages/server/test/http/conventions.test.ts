import { ErrorCode } from '@herald/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_POLICY } from '../../src/errors.js';
import { RETRY_AFTER_SECONDS, rawErrorResponse } from '../../src/error-response.js';
import { startGateway, TEST_API_KEY, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { gatewayOnStoppablePostgres } from '../helpers/outage-gateway.js';
import { rawConnection } from '../helpers/raw-http.js';

/** Every route Herald serves, with the methods it takes (HEAD wherever GET is) and what authenticates it. */
const ROUTES: Record<string, { methods: string[]; auth: 'user' | 'key' | 'none' }> = {
  '/': { methods: ['GET', 'HEAD'], auth: 'none' },
  '/healthz': { methods: ['GET', 'HEAD'], auth: 'none' },
  '/readyz': { methods: ['GET', 'HEAD'], auth: 'none' },
  '/metrics': { methods: ['GET', 'HEAD'], auth: 'none' },
  '/openapi.json': { methods: ['GET', 'HEAD'], auth: 'none' },
  '/ws/notifications': { methods: ['GET', 'HEAD'], auth: 'none' },
  '/notifications': { methods: ['GET', 'HEAD'], auth: 'user' },
  '/notifications/unread-count': { methods: ['GET', 'HEAD'], auth: 'user' },
  '/notifications/mark-read': { methods: ['POST'], auth: 'user' },
  '/notifications/mark-all-read': { methods: ['POST'], auth: 'user' },
  '/notifications/counts': { methods: ['GET', 'HEAD'], auth: 'user' },
  '/notifications/mark-seen': { methods: ['POST'], auth: 'user' },
  '/notifications/mark-unread': { methods: ['POST'], auth: 'user' },
  '/notifications/archive': { methods: ['POST'], auth: 'user' },
  '/notifications/unarchive': { methods: ['POST'], auth: 'user' },
  '/notifications/delete': { methods: ['POST'], auth: 'user' },
  // Paths with parameters are requested as the document writes them: `{id}` is a valid id like any other.
  '/notifications/{id}/actions/{action_id}': { methods: ['POST'], auth: 'user' },
  '/publish': { methods: ['POST'], auth: 'key' },
  '/broadcast': { methods: ['POST'], auth: 'key' },
  '/users/{user_id}': { methods: ['DELETE'], auth: 'key' },
};
const POST_ROUTES = Object.keys(ROUTES).filter((path) => ROUTES[path]!.methods.includes('POST'));
const AUTHENTICATED = Object.keys(ROUTES).filter((path) => ROUTES[path]!.auth !== 'none');
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * Herald's one error shape: exactly `error` and `message`, the code one of ErrorCode's, and the status the one the
 * error table gives that code. A HEAD answer has no body: its status alone is checked against the code.
 */
function expectError(answer: Answer, code: ErrorCode, what: string): void {
  expect({ what, status: answer.status }).toEqual({ what, status: ERROR_POLICY[code].status });
  expect(answer.headers.get('content-type'), what).toMatch(/^application\/json/);
  if (answer.text === '') return;
  const body: unknown = JSON.parse(answer.text);
  expect(body, what).toEqual({ error: code, message: expect.any(String) });
  expect((body as { message: string }).message.length, what).toBeGreaterThan(0);
}

describe('HTTP conventions', () => {
  let gateway: TestGateway;
  let userToken: string;
  beforeAll(async () => {
    gateway = await startGateway('sqlite');
    userToken = await gateway.token(uniqueUser('conventions'));
  });
  afterAll(() => gateway?.close());

  const bearerFor = (path: string): Record<string, string> => {
    const auth = ROUTES[path]!.auth;
    if (auth === 'none') return {};
    return { authorization: `Bearer ${auth === 'user' ? userToken : TEST_API_KEY}` };
  };

  async function request(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
    const response = await fetch(`${gateway.baseUrl}${path}`, { method, headers, body });
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  it('lists every route the OpenAPI document has', async () => {
    const document = JSON.parse((await request('GET', '/openapi.json')).text) as { paths: Record<string, unknown> };
    for (const path of Object.keys(document.paths)) expect(Object.keys(ROUTES)).toContain(path);
  });

  it.each(['/nope', '/notifications/nope', '/api/v1/publish', '/NOTIFICATIONS', '/publish/', '/assets/missing.js', '/ws'])(
    'answers an unknown path %s 404 not_found in every method',
    async (path) => {
      for (const method of METHODS) expectError(await request(method, path), ErrorCode.NotFound, `${method} ${path}`);
    },
  );

  it.each(Object.keys(ROUTES))('answers each method %s does not take 405 method_not_allowed with Allow', async (path) => {
    const { methods } = ROUTES[path]!;
    const wrong = METHODS.filter((method) => !methods.includes(method));
    expect(wrong.length).toBeGreaterThan(0);
    for (const method of wrong) {
      const answer = await request(method, path, bearerFor(path));
      expectError(answer, ErrorCode.MethodNotAllowed, `${method} ${path}`);
      expect(answer.headers.get('allow'), `${method} ${path}`).toBe([...methods].sort().join(', '));
    }
  });

  const wrongTypes = [
    'text/plain',
    'text/plain; charset=utf-8',
    'application/xml',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/octet-stream',
    'text/json',
    'application/jsonx',
  ];
  it.each(POST_ROUTES)('answers a body of every type but JSON on %s 415 unsupported_media_type', async (path) => {
    for (const type of wrongTypes) {
      const answer = await request('POST', path, { ...bearerFor(path), 'content-type': type }, '{}');
      expectError(answer, ErrorCode.UnsupportedMediaType, `${path} ${type}`);
      expect(JSON.parse(answer.text).message).toContain(type.split(';')[0]);
    }
  });

  it.each(POST_ROUTES)('answers an empty body on %s the same with a JSON content type as without one', async (path) => {
    const forms: Array<Record<string, string>> = [{}, { 'content-type': 'application/json' }, { 'content-type': 'application/json; charset=utf-8' }];
    for (const headers of forms) {
      const answer = await request('POST', path, { ...bearerFor(path), ...headers });
      const what = `${path} ${JSON.stringify(headers)}`;
      if (path === '/notifications/mark-all-read') {
        expect({ what, status: answer.status, body: JSON.parse(answer.text) }).toEqual({ what, status: 200, body: { changed: false } });
      } else {
        expectError(answer, ErrorCode.BadRequest, what);
      }
    }
  });

  it('still refuses malformed JSON and a JSON body that is only whitespace, in the shape', async () => {
    for (const body of ['{', ' ', 'nul', '{"a":1}x']) {
      for (const path of POST_ROUTES) {
        const answer = await request('POST', path, { ...bearerFor(path), 'content-type': 'application/json' }, body);
        expectError(answer, ErrorCode.BadRequest, `${path} ${JSON.stringify(body)}`);
      }
    }
  });

  it('answers a plain GET or HEAD on the WebSocket path 426 with Upgrade: websocket', async () => {
    for (const [method, query] of [['GET', ''], ['GET', `?token=${userToken}`], ['HEAD', '']] as const) {
      const answer = await request(method, `/ws/notifications${query}`);
      expectError(answer, ErrorCode.UpgradeRequired, `${method} ${query}`);
      expect(answer.headers.get('upgrade')).toBe('websocket');
      expect(answer.text).not.toContain(userToken);
    }
  });

  it.each(AUTHENTICATED)('answers %s without a token or with a bad one 401 with WWW-Authenticate: Bearer', async (path) => {
    const method = ROUTES[path]!.methods[0]!;
    const forms: Array<[Record<string, string>, string]> = [
      [{}, 'Bearer realm="herald"'],
      [{ authorization: 'Bearer not-a-token' }, 'Bearer realm="herald", error="invalid_token"'],
      [{ authorization: 'Basic dXNlcjpwYXNz' }, 'Bearer realm="herald", error="invalid_token"'],
      [{ authorization: `Bearer ${ROUTES[path]!.auth === 'user' ? TEST_API_KEY : userToken}` }, 'Bearer realm="herald", error="invalid_token"'],
    ];
    for (const [headers, challenge] of forms) {
      const answer = await request(method, path, { ...headers, ...(method === 'POST' && { 'content-type': 'application/json' }) }, method === 'POST' ? '{}' : undefined);
      expectError(answer, ErrorCode.Unauthorized, `${path} ${JSON.stringify(headers)}`);
      expect(answer.headers.get('www-authenticate')).toBe(challenge);
    }
  });

  it('answers a target that is no valid URL 400 in the shape', async () => {
    for (const path of ['/%zz', '/notifications%', '/publish%c3']) expectError(await request('GET', path), ErrorCode.BadRequest, path);
  });

  /** One raw request on its own connection, and the answer's status, headers and body. */
  async function raw(text: string): Promise<Answer> {
    const connection = await rawConnection(gateway.baseUrl);
    connection.socket.write(Buffer.from(text, 'latin1'));
    await connection.closed;
    const received = connection.received();
    const [head = '', ...rest] = received.split('\r\n\r\n');
    const [statusLine = '', ...headerLines] = head.split('\r\n');
    const headers = new Headers(headerLines.map((line): [string, string] => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
    return { status: Number(statusLine.split(' ')[1]), headers, text: rest.join('\r\n\r\n') };
  }

  it.each([
    ['a malformed request line', 'GET / HTTP/9.9\r\nHost: herald\r\n\r\n', ErrorCode.BadRequest],
    ['a header without a colon', 'GET / HTTP/1.1\r\nHost: herald\r\nNoColon\r\n\r\n', ErrorCode.BadRequest],
    ['two Content-Lengths', 'POST /publish HTTP/1.1\r\nHost: herald\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', ErrorCode.BadRequest],
    ['a 17 KB header', `GET / HTTP/1.1\r\nHost: herald\r\nX-Big: ${'a'.repeat(17_000)}\r\n\r\n`, ErrorCode.HeadersTooLarge],
    ['a CONNECT', 'CONNECT herald:443 HTTP/1.1\r\nHost: herald:443\r\n\r\n', ErrorCode.MethodNotAllowed],
  ])("answers %s, which Node's parser or the server refuses, in the shape", async (_name, text, code) => {
    expectError(await raw(text), code, _name);
  });

  const upgrade = (path: string, extra = ''): string =>
    `GET ${path} HTTP/1.1\r\nHost: herald\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

  it.each([
    ['an upgrade to another path', upgrade('/healthz'), ErrorCode.NotFound],
    ['an upgrade to a path of garbage', upgrade('/ws/%zz'), ErrorCode.NotFound],
    ['an upgrade with a malformed target', upgrade('*'), ErrorCode.BadRequest],
    ['an upgrade without a key', upgrade('/ws/notifications').replace(/Sec-WebSocket-Key: .*\r\n/, ''), ErrorCode.BadRequest],
    ['an upgrade by POST', upgrade('/ws/notifications').replace(/^GET/, 'POST'), ErrorCode.MethodNotAllowed],
  ])('answers %s before the handshake in the shape', async (_name, text, code) => {
    const answer = await raw(text);
    expectError(answer, code, _name);
    if (code === ErrorCode.MethodNotAllowed) expect(answer.headers.get('allow')).toBe('GET');
  });
});

describe('HTTP conventions with an allowed Origin list', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway('sqlite', { env: { HERALD_ALLOWED_ORIGINS: 'https://app.example' } });
  });
  afterAll(() => gateway?.close());

  it('answers an upgrade from another Origin 403 forbidden in the shape', async () => {
    const connection = await rawConnection(gateway.baseUrl);
    connection.socket.write(
      'GET /ws/notifications HTTP/1.1\r\nHost: herald\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nOrigin: https://evil.example\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await connection.closed;
    const [head = '', body = ''] = connection.received().split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(head).toMatch(/\r\ncontent-type: application\/json/i);
    expect(JSON.parse(body)).toEqual({ error: ErrorCode.Forbidden, message: expect.stringContaining('HERALD_ALLOWED_ORIGINS') });
  });

  it('answers a request whose headers never end 408 request_timeout in the shape', async () => {
    const timed = await startGateway('sqlite', { env: { HERALD_HEADERS_TIMEOUT_MS: '200' } });
    try {
      const connection = await rawConnection(timed.baseUrl);
      connection.socket.write('GET /healthz HTTP/1.1\r\nHost: herald\r\n');
      await connection.closed;
      const [head = '', body = ''] = connection.received().split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(JSON.parse(body)).toEqual({ error: ErrorCode.RequestTimeout, message: expect.stringContaining('HERALD_HEADERS_TIMEOUT_MS') });
    } finally {
      await timed.close();
    }
  });

  it('answers a plain OPTIONS without preflight headers 204, not a text/plain 400', async () => {
    for (const path of ['/publish', '/nope']) expect((await fetch(`${gateway.baseUrl}${path}`, { method: 'OPTIONS' })).status).toBe(204);
  });
});

describe('an error response written on a raw socket', () => {
  it.each([
    [ErrorCode.Unavailable, /^HTTP\/1\.1 503 Service Unavailable\r\n/, /\r\nretry-after: 5\r\n/],
    [ErrorCode.NotFound, /^HTTP\/1\.1 404 Not Found\r\n/, /\r\nconnection: close\r\n/],
    [ErrorCode.Forbidden, /^HTTP\/1\.1 403 Forbidden\r\n/, /\r\ncontent-length: 37\r\n/],
  ])('%s has its status line, the headers of its status and the shape', (code, statusLine, header) => {
    const text = rawErrorResponse(code, 'm\u00e9');
    expect(text).toMatch(statusLine);
    expect(text).toMatch(header);
    expect(JSON.parse(text.split('\r\n\r\n')[1]!)).toEqual({ error: code, message: 'm\u00e9' });
  });
});

describe('HTTP conventions while PostgreSQL is down', () => {
  const outage = gatewayOnStoppablePostgres();

  it('answers every 503, an error or /readyz, with Retry-After', async () => {
    const user = uniqueUser('retry-after');
    await outage.postgres.stop();
    try {
      const token = await outage.gateway.token(user);
      const answers: Array<[string, Response]> = [
        ['/publish', await fetch(`${outage.gateway.baseUrl}/publish`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ user_id: user, type: 'new_notification', payload: {} }),
        })],
        ['/notifications', await fetch(`${outage.gateway.baseUrl}/notifications`, { headers: { authorization: `Bearer ${token}` } })],
        ['/readyz', await fetch(`${outage.gateway.baseUrl}/readyz`)],
      ];
      for (const [path, response] of answers) {
        expect({ path, status: response.status, retryAfter: response.headers.get('retry-after') }).toEqual({
          path,
          status: 503,
          retryAfter: String(RETRY_AFTER_SECONDS),
        });
      }
      expect(await answers[0]![1].json()).toEqual({ error: ErrorCode.Unavailable, message: expect.any(String) });
    } finally {
      await outage.postgres.start();
    }
  });
});

import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode, ErrorCode } from '@herald/protocol';
import { badRequest, closeFor, ERROR_POLICY, HeraldError, storeUnavailable, unauthorized } from '../../src/errors.js';
import { handleError } from '../../src/http/error-handler.js';
import { createLogger } from '../../src/logger.js';
import { uniqueUser } from '../helpers/gateway.js';
import { gatewayOnStoppablePostgres } from '../helpers/outage-gateway.js';

const UNAVAILABLE_BODY = { error: 'unavailable', message: 'The database is unavailable; retry later' };
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('the error table', () => {
  it('gives every ErrorCode its status, close code and retry flag', () => {
    expect(ERROR_POLICY).toEqual({
      invalid_json: { status: 400, closeCode: 1008, retryable: false },
      invalid_frame: { status: 400, closeCode: 1008, retryable: false },
      unknown_type: { status: 400, closeCode: 1008, retryable: false },
      bad_request: { status: 400, closeCode: 1008, retryable: false },
      conflict: { status: 409, closeCode: 1008, retryable: false },
      unauthorized: { status: 401, closeCode: 4001, retryable: false },
      forbidden: { status: 403, closeCode: 1008, retryable: false },
      not_found: { status: 404, closeCode: 1008, retryable: false },
      method_not_allowed: { status: 405, closeCode: 1008, retryable: false },
      request_timeout: { status: 408, closeCode: 1008, retryable: false },
      payload_too_large: { status: 413, closeCode: 1009, retryable: false },
      unsupported_media_type: { status: 415, closeCode: 1008, retryable: false },
      upgrade_required: { status: 426, closeCode: 1008, retryable: false },
      headers_too_large: { status: 431, closeCode: 1008, retryable: false },
      unavailable: { status: 503, closeCode: 1011, retryable: true },
      internal: { status: 500, closeCode: 1011, retryable: true },
    });
    const closeCodes = new Set<number>(Object.values(CloseCode));
    for (const code of Object.values(ErrorCode)) expect(closeCodes.has(ERROR_POLICY[code].closeCode), code).toBe(true);
  });

  it.each(Object.values(ErrorCode))('%s: a HeraldError reads its status from the table, and closeFor its close code', (code) => {
    const error = new HeraldError(code, 'm');
    expect(error.status).toBe(ERROR_POLICY[code].status);
    expect(closeFor(error).code).toBe(ERROR_POLICY[code].closeCode);
  });
});

describe('closeFor', () => {
  it.each([
    ['an Unavailable HeraldError', storeUnavailable(refused()), { code: 1011, reason: 'Temporarily unavailable, reconnect' }],
    // The composition root wraps every store, so a raw driver error reaching the transport is a defect.
    ['a raw driver error (no store reaches the transport unwrapped)', refused(), { code: 1011, reason: 'Internal error, reconnect' }],
    ['an Unauthorized HeraldError (its message kept from the client)', unauthorized('jwt expired'), { code: 4001, reason: 'Unauthorized' }],
    ['a refused request', badRequest('since must be given once'), { code: 1008, reason: 'since must be given once' }],
    ['an Internal HeraldError', new HeraldError(ErrorCode.Internal, 'boom'), { code: 1011, reason: 'Internal error, reconnect' }],
    ['a plain Error', new TypeError('x is undefined'), { code: 1011, reason: 'Internal error, reconnect' }],
    ['a thrown non-Error', 'a string', { code: 1011, reason: 'Internal error, reconnect' }],
    ['undefined', undefined, { code: 1011, reason: 'Internal error, reconnect' }],
  ])('%s', (_what, error, expected) => {
    expect(closeFor(error)).toEqual(expected);
  });

  it('keeps every reason within 123 bytes of UTF-8, never cutting a character', () => {
    const long = 'é'.repeat(40) + '🙂'.repeat(40);
    for (const code of Object.values(ErrorCode)) {
      const { reason } = closeFor(new HeraldError(code, long));
      expect(Buffer.byteLength(reason), code).toBeLessThanOrEqual(123);
      expect(long.startsWith(reason) || reason.length < 40, code).toBe(true);
      expect(reason, code).not.toMatch(/\uFFFD/);
    }
    // 40 × 2 bytes, then as many 4-byte characters as fit in the 43 left: 10 of them.
    expect(closeFor(badRequest(long)).reason).toBe('é'.repeat(40) + '🙂'.repeat(10));
  });
});

describe('the HTTP error handler', () => {
  let app: FastifyInstance;
  const logs: Array<{ level: number; msg: string; err?: { message: string } }> = [];
  const thrown: Record<string, () => unknown> = {
    unavailable: () => storeUnavailable(refused()),
    'unwrapped-outage': () => refused(),
    internal: () => new HeraldError(ErrorCode.Internal, 'The stream could not be read', { cause: new Error('the real reason') }),
    plain: () => new Error('something broke'),
    unauthorized: () => unauthorized('Token expired'),
    'bad-request': () => badRequest('body.user_id must be string'),
  };

  beforeAll(async () => {
    const logger = createLogger('warn', { write: (line: string) => void logs.push(JSON.parse(line)) });
    app = Fastify({ loggerInstance: logger as FastifyBaseLogger });
    app.setErrorHandler(handleError);
    app.get('/:kind', async (request) => {
      throw thrown[(request.params as { kind: string }).kind]!();
    });
    await app.ready();
  });
  afterAll(() => app.close());

  async function answer(kind: string) {
    logs.length = 0;
    const response = await app.inject({ method: 'GET', url: `/${kind}` });
    return {
      status: response.statusCode,
      body: response.json(),
      logs: logs.map(({ level, msg, err }) => ({ level, msg, err: err?.message })),
    };
  }

  it('answers an Unavailable HeraldError 503 as ever, logged at warn with the driver error', async () => {
    expect(await answer('unavailable')).toEqual({
      status: 503,
      body: UNAVAILABLE_BODY,
      logs: [{ level: 40, msg: 'database unavailable', err: 'connect ECONNREFUSED 127.0.0.1:5432' }],
    });
  });

  it('answers the same for an outage error that a store not wrapped with guardOutages let through', async () => {
    expect(await answer('unwrapped-outage')).toEqual(await answer('unavailable'));
  });

  it('logs another 5xx HeraldError at error with its cause, and answers its code and message', async () => {
    expect(await answer('internal')).toEqual({
      status: 500,
      body: { error: 'internal', message: 'The stream could not be read' },
      logs: [{ level: 50, msg: 'The stream could not be read', err: 'the real reason' }],
    });
  });

  it('answers a plain error 500 Internal, its message kept out of the answer', async () => {
    expect(await answer('plain')).toEqual({
      status: 500,
      body: { error: 'internal', message: 'Internal error' },
      logs: [{ level: 50, msg: 'request failed', err: 'something broke' }],
    });
  });

  it("answers a caller's error with its status and message, and logs nothing", async () => {
    expect(await answer('unauthorized')).toEqual({ status: 401, body: { error: 'unauthorized', message: 'Token expired' }, logs: [] });
    expect(await answer('bad-request')).toEqual({
      status: 400,
      body: { error: 'bad_request', message: 'body.user_id must be string' },
      logs: [],
    });
  });
});

describe('a gateway whose store is guarded, while PostgreSQL is down', () => {
  const outage = gatewayOnStoppablePostgres();

  it('answers publish and the inbox 503 with the same body as before, and serves again once it is back', async () => {
    const user = uniqueUser('guarded');
    const publish = () => outage.gateway.publish({ user_id: user, type: 'new_notification', payload: { title: 't' } });
    expect((await publish()).status).toBe(200);
    await outage.postgres.stop();
    expect(await publish()).toEqual({ status: 503, body: UNAVAILABLE_BODY });
    expect(await outage.gateway.asUser(user, '/notifications')).toEqual({ status: 503, body: UNAVAILABLE_BODY });
    expect(await outage.gateway.asUser(user, '/notifications/unread-count')).toEqual({ status: 503, body: UNAVAILABLE_BODY });
    await outage.postgres.start();
    expect((await publish()).body.events[0].seq).toBe(2);
  });
});

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handshakeProtocols } from '@herald/protocol';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { uniqueUser } from '../helpers/gateway.js';
import { cleanEnv, runHerald, startHerald } from '../helpers/herald-process.js';
import { hs256, nowS } from '../helpers/hs256.js';
import { rawConnection } from '../helpers/raw-http.js';
import { TestClient } from '../helpers/ws-client.js';

const SECRET = 'log-secrets-jwt-secret-long-enough-for-hs256';

/**
 * Every form a secret could take in a log line: as text, as the byte list of a serialised Buffer (how pino writes
 * a parser error's `rawPacket`), in base64 and in hex.
 */
function forms(secret: string): string[] {
  const bytes = Buffer.from(secret);
  return [secret, [...bytes].join(','), bytes.toString('base64').slice(0, -4), bytes.toString('hex')];
}

/** The secrets of a token: its payload part and its signature part, each enough to recognise or replay it. */
const tokenParts = (token: string): string[] => token.split('.').slice(1);

/** Each secret found in `output`, in any of its forms, with 80 characters around it. */
function leaks(output: string, secrets: string[]): string[] {
  return secrets.flatMap((secret) =>
    forms(secret).flatMap((form) => {
      const at = output.indexOf(form);
      return at < 0 ? [] : [`${secret.slice(0, 12)}… at ${at}: ${output.slice(Math.max(0, at - 80), at + form.length + 80)}`];
    }),
  );
}

/** Writes `request` on a raw socket and waits for the server to close it (or 3 s). */
async function rawRequest(baseUrl: string, request: string): Promise<string> {
  const connection = await rawConnection(baseUrl);
  connection.socket.write(request);
  await Promise.race([connection.closed, new Promise((resolve) => setTimeout(resolve, 3000))]);
  connection.socket.destroy();
  return connection.received();
}

/** Requests Node's parser refuses, each carrying `token` or `apiKey` where a client would put it. */
function malformedRequests(token: string, apiKey: string): string[] {
  const bigHeader = `X-Filler: ${'a'.repeat(20_000)}\r\n`;
  return [
    // A bad header byte after the Authorization line: the bytes before it are in the parser's error.
    `GET /notifications?token=${token} HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer ${token}\r\nBad\u0001Header: y\r\n\r\n`,
    // A bad request line with the token in the target.
    `GET /ws/notifications?token=${token} HTTP/9 9\r\nHost: h\r\n\r\n`,
    // An upgrade whose subprotocol header carries the token, then a header too large.
    `GET /ws/notifications HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: herald.v1, herald.token.${token}\r\n${bigHeader}\r\n`,
    // Request smuggling shape: both Content-Length and Transfer-Encoding.
    `POST /publish HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer ${apiKey}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n{}\r\n`,
    // The publish key, then a header with no colon.
    `POST /publish HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer ${apiKey}\r\nno-colon-here\r\n\r\n`,
    // A bad chunk after a well-formed head.
    `POST /publish HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer ${apiKey}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${apiKey}\r\n`,
  ];
}

/** Drives a running herald with every way a token and the publish key arrive, well-formed or not. */
async function exercise(baseUrl: string, tokens: { good: string; wrong: string; expired: string }, apiKey: string): Promise<void> {
  const wsUrl = `${baseUrl.replace('http', 'ws')}/ws/notifications`;
  const attempt = async (open: () => Promise<TestClient>) => {
    try {
      const client = await open();
      await Promise.race([client.closed, client.waitForType('connected')]);
      await client.close();
    } catch {
      // A refused upgrade is one of the outcomes being logged.
    }
  };
  for (const token of Object.values(tokens)) {
    await attempt(() => TestClient.connect(`${wsUrl}?${new URLSearchParams({ token })}`));
    await attempt(() => TestClient.connect(wsUrl, { protocols: handshakeProtocols(token) }));
    await attempt(() => TestClient.connect(wsUrl, { headers: { authorization: `Bearer ${token}` } }));
    await fetch(`${baseUrl}/notifications`, { headers: { authorization: `Bearer ${token}` } });
    await fetch(`${baseUrl}/notifications?token=${token}&limit=nope`);
    await fetch(`${baseUrl}/notifications/%zz?token=${token}`, { headers: { cookie: `session=${token}` } });
    for (const request of malformedRequests(token, apiKey)) await rawRequest(baseUrl, request);
  }
  const client = await TestClient.open(wsUrl, tokens.good);
  await client.waitForType('connected');
  client.send({ type: 'refresh', payload: { token: tokens.wrong } });
  client.send({ type: 'refresh', payload: { token: tokens.good } });
  await client.waitForType('token_refreshed');
  await client.close();
  const publish = (authorization: string, body: string) =>
    fetch(`${baseUrl}/publish`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body });
  await publish(`Bearer ${apiKey}`, '{"user_id": "u", "type": ');
  await publish(`Bearer ${apiKey}`, `{"user_id": "u", "type": "t", "payload": {"key": "${apiKey}"}, "nope": 1}`);
  await publish(`Bearer ${tokens.wrong}`, '{}');
  await publish(`Bearer ${apiKey}x`, '{}');
}

interface Run {
  /** Everything the process printed, stdout and stderr. */
  output: string;
  /** The payload and signature parts of every token sent. */
  secrets: string[];
  traceLines: number;
  parserErrors: string[];
}

async function runAtTrace(env: Record<string, string>, apiKey: string): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-log-secrets-'));
  const { child, url } = await startHerald(dir, { HERALD_JWT_SECRET: SECRET, HERALD_API_KEY: apiKey, HERALD_LOG_LEVEL: 'trace', ...env });
  try {
    const user = uniqueUser('log-secrets');
    const tokens = {
      good: await hs256({ sub: user, exp: nowS() + 60 }, SECRET),
      wrong: await hs256({ sub: user, exp: nowS() + 60 }, 'a-different-secret-long-enough-for-hs256'),
      expired: await hs256({ sub: user, exp: nowS() - 600 }, SECRET),
    };
    await exercise(String(url), tokens, apiKey);
    child.kill('SIGTERM');
    await child.exited;
    const lines = child.stdout.split('\n').filter((line) => line.startsWith('{'));
    const entries = lines.map((line) => JSON.parse(line) as { level: number; err?: { code?: string } });
    return {
      output: child.output,
      secrets: Object.values(tokens).flatMap(tokenParts),
      traceLines: entries.filter((entry) => entry.level === 10).length,
      parserErrors: entries.flatMap((entry) => (entry.level === 10 && entry.err?.code?.startsWith('HPE_') ? [entry.err.code] : [])),
    };
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

function expectNoSecrets(run: Run, extra: string[]): void {
  // Not vacuous: trace is on, and the refused requests were logged (with their parser error codes).
  expect(run.traceLines).toBeGreaterThan(10);
  expect(new Set(run.parserErrors)).toEqual(
    new Set(['HPE_INVALID_HEADER_TOKEN', 'HPE_INVALID_VERSION', 'HPE_HEADER_OVERFLOW', 'HPE_INVALID_TRANSFER_ENCODING', 'HPE_INVALID_CHUNK_SIZE']),
  );
  expect(leaks(run.output, [...run.secrets, ...extra])).toEqual([]);
}

describe('no secret reaches a log line at HERALD_LOG_LEVEL=trace', () => {
  it('SQLite: no token part and no publish key, after good, wrong, expired and malformed requests of every form', async () => {
    const apiKey = `log-secrets-key-${randomBytes(12).toString('hex')}`;
    const run = await runAtTrace({}, apiKey);
    expectNoSecrets(run, [apiKey]);
  }, 60_000);

  describe('PostgreSQL with a password', () => {
    const role = `herald_log_${randomBytes(6).toString('hex')}`;
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const admin = () => new pg.Client({ connectionString: inject('postgresUrl') });
    let databaseUrl: string;
    beforeAll(async () => {
      const client = admin();
      await client.connect();
      try {
        await client.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
        await client.query(`CREATE DATABASE ${role} OWNER ${role}`);
      } finally {
        await client.end();
      }
      const url = new URL(inject('postgresUrl'));
      url.username = role;
      url.password = password;
      url.pathname = `/${role}`;
      databaseUrl = url.toString();
    });
    afterAll(async () => {
      const client = admin();
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${role} WITH (FORCE)`);
        await client.query(`DROP ROLE IF EXISTS ${role}`);
      } finally {
        await client.end();
      }
    });

    it('no token part, publish key or database password in the log of a server on PostgreSQL', async () => {
      const apiKey = `log-secrets-key-${randomBytes(12).toString('hex')}`;
      const run = await runAtTrace({ HERALD_DATABASE_URL: databaseUrl }, apiKey);
      expect(run.output).toContain(`"database":"postgres://***@`);
      expectNoSecrets(run, [apiKey, password]);
    }, 60_000);

    it('no database password in what a failed start-up prints (a database that does not exist)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'herald-log-secrets-'));
      try {
        const missing = new URL(databaseUrl);
        missing.pathname = `/${role}_missing`;
        const exit = await runHerald(['start'], {
          cwd: dir,
          env: cleanEnv({ HERALD_PORT: '0', HERALD_DATABASE_URL: missing.toString(), HERALD_JWT_SECRET: SECRET, HERALD_LOG_LEVEL: 'trace' }),
        });
        expect(exit.code).toBe(1);
        expect(exit.stderr).toContain('Herald could not start');
        expect(leaks(exit.stdout + exit.stderr, [password])).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

describe("the logger's redaction, path by path", () => {
  const written = (log: (logger: ReturnType<typeof createLogger>) => void): string => {
    let text = '';
    log(createLogger('trace', { write: (line: string) => (text += line) }));
    return text;
  };
  const secret = `s3cret-${randomBytes(8).toString('hex')}`;

  it('headers: Authorization, Cookie, the token subprotocol and X-Api-Key, in req and on their own', () => {
    const headers = { authorization: `Bearer ${secret}`, cookie: `a=${secret}`, 'sec-websocket-protocol': `herald.token.${secret}`, 'x-api-key': secret, host: 'kept' };
    const text = written((logger) => {
      logger.trace({ headers }, 'headers');
      logger.trace({ req: { headers } }, 'req headers');
      logger.trace({ request: { headers } }, 'request headers');
    });
    expect(text).toContain('kept');
    expect(leaks(text, [secret])).toEqual([]);
  });

  it('a request is its method and its URL with the token query parameter removed', () => {
    const text = written((logger) => logger.trace({ req: { method: 'GET', url: `/ws?a=1&token=${secret}#x`, headers: { cookie: secret } } }, 'req'));
    expect(text).toContain('"url":"/ws?a=1&token=[redacted]#x"');
    expect(leaks(text, [secret])).toEqual([]);
  });

  it('the private members of a JSON Web Key or key set, wherever it is logged', () => {
    const jwk = { kty: 'RSA', kid: 'kept-kid', n: 'public-n', e: 'AQAB', d: `${secret}d`, p: `${secret}p`, q: `${secret}q`, dp: `${secret}dp`, dq: `${secret}dq`, qi: `${secret}qi` };
    const oct = { kty: 'oct', kid: 'oct', k: `${secret}k` };
    const text = written((logger) => {
      logger.debug({ jwk }, 'a key');
      logger.debug({ keys: [jwk, oct] }, 'a key set');
      logger.debug({ jwks: { keys: [jwk, oct] } }, 'a key set response');
    });
    expect(text).toContain('kept-kid');
    expect(text).toContain('public-n');
    expect(leaks(text, [secret])).toEqual([]);
  });

  it("an error's raw packet, and URL passwords and query tokens in its message and stack", () => {
    const error = Object.assign(new Error(`connect to postgres://herald:${secret}@db/x failed; GET /n?token=${secret}`), {
      code: 'HPE_TEST',
      rawPacket: Buffer.from(`GET /?token=${secret} HTTP/1.1\r\n`),
    });
    const text = written((logger) => {
      logger.trace({ err: error }, 'client error');
      logger.trace({ err: new Error('wrapped', { cause: error }) }, 'wrapped');
    });
    expect(text).toContain('"code":"HPE_TEST"');
    expect(text).toContain('postgres://herald:***@db/x');
    expect(leaks(text, [secret])).toEqual([]);
  });
});

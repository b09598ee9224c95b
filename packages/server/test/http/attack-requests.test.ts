import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handshakeProtocols } from '@herald/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/mint-token.js';
import { TEST_API_KEY, TEST_SECRET, uniqueUser } from '../helpers/gateway.js';
import { startHerald, type Exit, type HeraldProcess } from '../helpers/herald-process.js';
import { clientFrame, rawConnection } from '../helpers/raw-http.js';
import { TestClient } from '../helpers/ws-client.js';

/**
 * Who answers a form, and so which counter moves:
 * - `parser`: Node's HTTP parser refuses the request before any listener sees it (fastify answers, 400 or 431):
 *   herald_http_client_errors_total; `connect`: a CONNECT, 405, the same counter.
 * - `bad_request`, `not_found`, `origin`: Herald's upgrade handler refuses it before the WebSocket exists:
 *   herald_refused_connections_total{reason}.
 * - `route`: not an upgrade at all; fastify's router answers it like any request (no counter), 426 on the WebSocket path.
 * - `close 4001`: upgraded, then closed for want of a token (herald_auth_failures_total);
 *   `close 1008`: upgraded, then closed for a malformed `since` (herald_refused_connections_total{reason="bad_request"}).
 */
type Answer =
  | `parser ${400 | 431}`
  | 'connect 405'
  | `bad_request ${400 | 405}`
  | 'not_found 404'
  | 'origin 403'
  | `route ${400 | 404 | 426}`
  | `close ${4001 | 1008}`;

const ORIGIN = 'http://app.example';
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const TOKEN = '@TOKEN@';

/** The headers of a well-formed WebSocket upgrade (no token), then `extra`. */
function upgradeHeaders(extra = ''): string {
  return `Host: herald\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${extra}`;
}
function upgrade(target: string, extra = ''): string {
  return `GET ${target} HTTP/1.1\r\n${upgradeHeaders(extra)}\r\n`;
}
/** An upgrade to /ws/notifications with its handshake headers given whole. */
function handshake(headers: string): string {
  return `GET /ws/notifications HTTP/1.1\r\nHost: herald\r\n${headers}\r\n`;
}

const FORMS: Array<[name: string, request: string, answer: Answer]> = [
  // Request lines
  ['a method with a control byte', 'FOO\x01BAR /ws/notifications HTTP/1.1\r\nHost: herald\r\n\r\n', 'parser 400'],
  ['a lower-case method', 'get /ws/notifications HTTP/1.1\r\nHost: herald\r\n\r\n', 'parser 400'],
  ['an unknown method on an upgrade', `BREW /ws/notifications HTTP/1.1\r\n${upgradeHeaders()}\r\n`, 'parser 400'],
  ['POST on an upgrade', `POST /ws/notifications HTTP/1.1\r\n${upgradeHeaders()}\r\n`, 'bad_request 405'],
  ['no HTTP version (HTTP/0.9)', 'GET /ws/notifications\r\n\r\n', 'route 426'],
  ['HTTP/9.9', 'GET / HTTP/9.9\r\nHost: herald\r\n\r\n', 'parser 400'],
  ['HTTP/2.0 in text on an upgrade', `GET /ws/notifications HTTP/2.0\r\n${upgradeHeaders()}\r\n`, 'close 4001'],
  ['HTTP/1.0 on an upgrade', `GET /ws/notifications HTTP/1.0\r\n${upgradeHeaders()}\r\n`, 'close 4001'],
  ['the HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'parser 400'],
  ['a request line over 16 KB', `GET /${'a'.repeat(17_000)} HTTP/1.1\r\nHost: herald\r\n\r\n`, 'parser 431'],
  ['bare LF line ends', 'GET /ws/notifications HTTP/1.1\nHost: herald\nUpgrade: websocket\nConnection: Upgrade\n\n', 'parser 400'],
  ['a TLS ClientHello', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 'parser 400'],
  // Request targets
  ['absolute-form with port 99999', upgrade('http://x:99999/ws/notifications'), 'bad_request 400'],
  ['absolute-form with a space in the host', upgrade('http://ex ample/ws/notifications'), 'parser 400'],
  ['absolute-form with an unclosed IPv6 host', upgrade('http://[::1/ws/notifications'), 'bad_request 400'],
  ['absolute-form with an IPv6 host of garbage', upgrade('http://[zz::g]/ws/notifications'), 'bad_request 400'],
  ['absolute-form with userinfo', upgrade('http://user:pass@herald/ws/notifications'), 'close 4001'],
  ['absolute-form, another scheme', upgrade('ftp://herald/ws/notifications'), 'close 4001'],
  ['absolute-form without a host', upgrade('http:///ws/notifications'), 'not_found 404'],
  ['asterisk-form on an upgrade', upgrade('*'), 'bad_request 400'],
  ['authority-form CONNECT', 'CONNECT herald:443 HTTP/1.1\r\nHost: herald:443\r\n\r\n', 'connect 405'],
  ['authority-form CONNECT with upgrade headers', `CONNECT herald:443 HTTP/1.1\r\n${upgradeHeaders()}\r\n`, 'connect 405'],
  ['a target starting with //', upgrade('//ws/notifications'), 'not_found 404'],
  ['a target starting with //host:99999', upgrade('//x:99999/ws/notifications'), 'not_found 404'],
  ['percent garbage in the query', upgrade('/ws/notifications?%zz=%zz&since=%zz'), 'close 4001'],
  ['percent garbage in the path', upgrade('/ws/%zz'), 'not_found 404'],
  ['a NUL in the target', upgrade('/ws/notifications\x00'), 'parser 400'],
  ['a space in the target', upgrade('/ws/not ifications'), 'parser 400'],
  ['a 15 KB target', upgrade(`/ws/notifications?x=${'a'.repeat(15_000)}`), 'close 4001'],
  ['backslashes for slashes', upgrade('\\\\x:99999\\ws\\notifications'), 'parser 400'],
  ['an empty target', `GET  HTTP/1.1\r\n${upgradeHeaders()}\r\n`, 'parser 400'],
  ['a relative target', upgrade('ws/notifications'), 'parser 400'],
  ['bytes over 0x7f in the target', upgrade('/ws/notifications?x=\xe9\xff'), 'parser 400'],
  ['port 99999 on a plain request', 'GET http://x:99999/healthz HTTP/1.1\r\nHost: herald\r\n\r\n', 'route 400'],
  ['percent garbage on a plain request', 'GET /%zz HTTP/1.1\r\nHost: herald\r\n\r\n', 'route 400'],
  // Header sets
  ['no Host', handshake(`Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n`).replace('Host: herald\r\n', ''), 'close 4001'],
  ['two Hosts', upgrade('/ws/notifications', 'Host: other\r\n'), 'close 4001'],
  ['a header without a colon', upgrade('/ws/notifications', 'NoColonHere\r\n'), 'parser 400'],
  ['an obs-fold', upgrade('/ws/notifications', 'X-Folded: a\r\n  b\r\n'), 'parser 400'],
  ['a 17 KB header', upgrade('/ws/notifications', `X-Big: ${'a'.repeat(17_000)}\r\n`), 'parser 431'],
  ['2,000 headers', upgrade('/ws/notifications', Array.from({ length: 2000 }, (_, i) => `X-H${i}: v\r\n`).join('')), 'parser 431'],
  ['a control byte in a header value', upgrade('/ws/notifications', 'X-Bad: a\x01b\r\n'), 'parser 400'],
  ['a space in a header name', upgrade('/ws/notifications', 'X Bad: a\r\n'), 'parser 400'],
  ['a space before the colon', upgrade('/ws/notifications', `Origin : ${ORIGIN}\r\n`), 'parser 400'],
  ['two Upgrade headers', upgrade('/ws/notifications', 'Upgrade: websocket\r\n'), 'bad_request 400'],
  ['two Connection headers', upgrade('/ws/notifications', 'Connection: Upgrade\r\n'), 'close 4001'],
  ['two Sec-WebSocket-Keys', upgrade('/ws/notifications', `Sec-WebSocket-Key: ${KEY}\r\n`), 'bad_request 400'],
  ['two Sec-WebSocket-Versions', upgrade('/ws/notifications', 'Sec-WebSocket-Version: 13\r\n'), 'bad_request 400'],
  ['two allowed Origins', upgrade('/ws/notifications', `Origin: ${ORIGIN}\r\nOrigin: ${ORIGIN}\r\n`), 'origin 403'],
  ['a cross-site Origin', upgrade('/ws/notifications', 'Origin: http://evil.example\r\n'), 'origin 403'],
  ['an empty subprotocol in the list', upgrade('/ws/notifications', 'Sec-WebSocket-Protocol: herald.v1,,x\r\n'), 'bad_request 400'],
  ['a subprotocol twice', upgrade('/ws/notifications', 'Sec-WebSocket-Protocol: herald.v1, herald.v1\r\n'), 'bad_request 400'],
  ['a token subprotocol that is empty', upgrade('/ws/notifications', 'Sec-WebSocket-Protocol: herald.v1, herald.token.\r\n'), 'close 4001'],
  ['two Authorization headers', upgrade('/ws/notifications', 'Authorization: Bearer a\r\nAuthorization: Bearer b\r\n'), 'close 4001'],
  ['extensions of garbage', upgrade('/ws/notifications', 'Sec-WebSocket-Extensions: permessage-deflate; ===\r\n'), 'close 4001'],
  ['Content-Length and chunked', 'POST /publish HTTP/1.1\r\nHost: herald\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'parser 400'],
  ['a Content-Length that is no number', 'POST /publish HTTP/1.1\r\nHost: herald\r\nContent-Length: abc\r\n\r\n', 'parser 400'],
  ['two Content-Lengths', 'POST /publish HTTP/1.1\r\nHost: herald\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 'parser 400'],
  // Upgrade variants
  ['Upgrade: websocket without Connection: upgrade', handshake(`Upgrade: websocket\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n`), 'route 426'],
  ['Connection: upgrade without Upgrade', handshake(`Connection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n`), 'route 426'],
  ['Sec-WebSocket-Version 99', handshake(`Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 99\r\n`), 'bad_request 400'],
  ['Sec-WebSocket-Version in words', handshake(`Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: thirteen\r\n`), 'bad_request 400'],
  ['no Sec-WebSocket-Key', handshake('Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n'), 'bad_request 400'],
  ['a 3-byte Sec-WebSocket-Key', handshake('Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: abc\r\nSec-WebSocket-Version: 13\r\n'), 'bad_request 400'],
  ['Upgrade: h2c', handshake('Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n'), 'bad_request 400'],
  ['Upgrade: h2c on /', 'GET / HTTP/1.1\r\nHost: herald\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n', 'not_found 404'],
  ['an upgrade to /healthz', upgrade('/healthz'), 'not_found 404'],
  ['an upgrade to /publish', upgrade('/publish'), 'not_found 404'],
  ['an upgrade with a Content-Length body', `${upgrade('/ws/notifications', 'Content-Length: 10\r\n')}0123456789`, 'close 4001'],
  ['an upgrade with a chunked body', `${upgrade('/ws/notifications', 'Transfer-Encoding: chunked\r\n')}5\r\nhello\r\n0\r\n\r\n`, 'close 4001'],
  ['since=abc', upgrade(`/ws/notifications?since=abc&token=${TOKEN}`), 'close 1008'],
  ['since=-1', upgrade(`/ws/notifications?since=-1&token=${TOKEN}`), 'close 1008'],
  ['since=1e400', upgrade(`/ws/notifications?since=1e400&token=${TOKEN}`), 'close 1008'],
  ['since of 400 digits', upgrade(`/ws/notifications?since=${'9'.repeat(400)}&token=${TOKEN}`), 'close 1008'],
  ['an empty since', upgrade(`/ws/notifications?since=&token=${TOKEN}`), 'close 1008'],
  ['since twice', upgrade(`/ws/notifications?since=1&since=2&token=${TOKEN}`), 'close 1008'],
  ['a token of NUL and 0xff', upgrade('/ws/notifications?token=%00%ff'), 'close 4001'],
];

interface Observed {
  /** The status line's code, or the close code after a 101; 'closed' without an answer; 'hung' past the wait. */
  answer: string;
}

/** How long one form may take to be answered: generous, but a hang fails instead of timing the test out. */
const ANSWER_WITHIN_MS = 5000;

describe('malformed requests against a real herald start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-requests-'));
  let child: HeraldProcess;
  let url: string;
  let exit: Exit | undefined;
  beforeAll(async () => {
    ({ child, url } = await startHerald(dir, {
      HERALD_JWT_SECRET: TEST_SECRET,
      HERALD_API_KEY: TEST_API_KEY,
      HERALD_ALLOWED_ORIGINS: ORIGIN,
    }));
    void child.exited.then((result) => (exit = result));
  });
  afterAll(async () => {
    child.kill('SIGTERM');
    await child.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  async function openTab(user: string): Promise<TestClient> {
    const client = await TestClient.connect(`${url.replace('http', 'ws')}/ws/notifications`, {
      protocols: handshakeProtocols(await mintToken(TEST_SECRET, user)),
    });
    await client.waitForType('connected');
    return client;
  }

  async function publish(user: string, n: number): Promise<void> {
    const response = await fetch(`${url}/publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: user, type: 'new_notification', payload: { n } }),
    });
    expect(response.status).toBe(200);
  }

  /** Sends one request on its own TCP connection and reads what comes back, within ANSWER_WITHIN_MS. */
  async function send(request: string): Promise<Observed> {
    const raw = await rawConnection(url);
    try {
      raw.socket.write(Buffer.from(request, 'latin1'));
      const headEnd = () => raw.received().indexOf('\r\n\r\n');
      if (!(await within(() => headEnd() >= 0 || raw.socket.destroyed, raw.closed))) return { answer: 'hung' };
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(raw.received())?.[1];
      if (status === undefined) return { answer: raw.received() === '' ? 'closed' : `garbage ${JSON.stringify(raw.received().slice(0, 40))}` };
      if (status !== '101') return { answer: status };
      // Upgraded: Herald's first frame must be the close that refuses it; the client answers it as ws would.
      const frameAt = headEnd() + 4;
      if (!(await within(() => raw.received().length >= frameAt + 4 || raw.socket.destroyed, raw.closed))) return { answer: '101 hung' };
      const frame = Buffer.from(raw.received().slice(frameAt), 'latin1');
      if (frame[0] !== 0x88) return { answer: `101 then frame 0x${frame[0]?.toString(16)}` };
      const code = frame.readUInt16BE(2);
      raw.socket.write(clientFrame(0x8, frame.subarray(2, 4)));
      if (!(await within(() => raw.socket.destroyed, raw.closed))) return { answer: `close ${code} then hung` };
      return { answer: `close ${code}` };
    } finally {
      raw.socket.destroy();
    }
  }

  it('answers every malformed request line, target, header set and upgrade with a 4xx or a close, counts it, and keeps serving', { timeout: 120_000 }, async () => {
    const user = uniqueUser('before');
    const before = await openTab(user);
    await publish(user, 1);
    await before.waitForSeq(1);
    const counted = await counters(url);
    const token = await mintToken(TEST_SECRET, uniqueUser('since'));

    const observed: Array<[string, string]> = [];
    for (const [name, request] of FORMS) {
      observed.push([name, (await send(request.replaceAll(TOKEN, token))).answer]);
      // Stop at the form that ended the process, with what it printed.
      const health = await fetch(`${url}/healthz`).then((response) => String(response.status), (error: Error) => error.message);
      if (health !== '200') {
        await Promise.race([child.exited, new Promise((resolve) => setTimeout(resolve, 2000))]);
        throw new Error(`herald stopped serving (/healthz: ${health}, exit: ${JSON.stringify(exit)}) after "${name}":\n${child.stderr.slice(-2000)}`);
      }
    }
    const expected = FORMS.map(([name, , answer]) => [name, answer.split(' ')[1]!.replace(/^(4001|1008)$/, 'close $1')]);
    expect(observed).toEqual(expected);
    expect(observed.filter(([, answer]) => !/^(4\d\d|close \d+)$/.test(answer))).toEqual([]);

    // Every refusal counted where it happened, exactly.
    const tally = (kind: string) => FORMS.filter(([, , answer]) => answer.startsWith(kind)).length;
    const after = await counters(url);
    expect(after.clientErrors - counted.clientErrors).toBe(tally('parser '));
    expect(after.connects - counted.connects).toBe(tally('connect '));
    expect(after.badRequest - counted.badRequest).toBe(tally('bad_request ') + tally('close 1008'));
    expect(after.notFound - counted.notFound).toBe(tally('not_found '));
    expect(after.origin - counted.origin).toBe(tally('origin '));
    expect(after.authFailures - counted.authFailures).toBe(tally('close 4001'));
    expect(tally('bad_request ')).toBeGreaterThanOrEqual(15);

    // The process is alive, the tab connected before still receives, a new user can connect and receive.
    expect(exit).toBeUndefined();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await publish(user, 2);
    expect((await before.waitForSeq(2)).map((frame) => frame.payload.payload.n)).toEqual([1, 2]);
    const newcomer = uniqueUser('after');
    const after1 = await openTab(newcomer);
    await publish(newcomer, 1);
    expect((await after1.waitForSeq(1)).map((frame) => frame.payload.payload.n)).toEqual([1]);
    await Promise.all([before.close(), after1.close()]);
    // Each malformed target was refused where it is read, not by the catch-all behind it.
    expect(child.output).not.toContain('upgrade request failed');
    expect(child.output).not.toContain('upgrade failed');
  });
});

/** Resolves true once `done` holds (polled), false after ANSWER_WITHIN_MS; `closed` wakes it early. */
async function within(done: () => boolean, closed: Promise<void>): Promise<boolean> {
  const deadline = Date.now() + ANSWER_WITHIN_MS;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5))]);
  }
  return true;
}

interface Counters {
  clientErrors: number;
  connects: number;
  badRequest: number;
  notFound: number;
  origin: number;
  authFailures: number;
}

async function counters(baseUrl: string): Promise<Counters> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const sum = (name: string, match: (labels: string) => boolean) =>
    text
      .split('\n')
      .map((line) => /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line))
      .filter((found) => found !== null && found[1] === name && match(found[2] ?? ''))
      .reduce((total, found) => total + Number(found![3]), 0);
  const refused = (reason: string) => sum('herald_refused_connections_total', (labels) => labels === `reason="${reason}"`);
  return {
    clientErrors: sum('herald_http_client_errors_total', (labels) => labels !== 'code="CONNECT"'),
    connects: sum('herald_http_client_errors_total', (labels) => labels === 'code="CONNECT"'),
    badRequest: refused('bad_request'),
    notFound: refused('not_found'),
    origin: refused('origin'),
    authFailures: sum('herald_auth_failures_total', () => true),
  };
}

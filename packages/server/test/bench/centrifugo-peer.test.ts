import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCentrifugo } from '../../../../bench/peers/centrifugo-binary.js';
import { centrifugoConfig, personalChannel } from '../../../../bench/peers/centrifugo-config.js';
import { CentrifugoPublisher } from '../../../../bench/side-by-side/centrifugo-publisher.js';
import { CLIENT_PROTOCOLS, forEachSent, sentAt } from '../../../../bench/side-by-side/client-protocols.js';
import { parseOptions } from '../../../../bench/side-by-side/options.js';

/**
 * The parts of the Centrifugo peer that need no Centrifugo: how the load generator reads its frames, what the
 * publisher sends to its HTTP API (to a loopback server standing in for it), its config, and how the binary is
 * found or reported missing. The bench harness test covers the run without Go.
 */
describe('the Centrifugo client protocol of the load generator', () => {
  const protocol = CLIENT_PROTOCOLS.centrifugo;
  const frame = (text: string) => Buffer.from(text);
  const classify = (text: string) => {
    const sent: string[] = [];
    const kind = protocol.onFrame(frame(text), (answer) => sent.push(answer), 'token');
    return { kind, sent };
  };

  it('connects with the token as its first frame, on Centrifugo\'s WebSocket path, with no subprotocol', () => {
    const sent: string[] = [];
    protocol.onOpen!((text) => sent.push(text), 'the.jwt.token');
    expect(sent.map((text) => JSON.parse(text) as unknown)).toEqual([{ id: 1, connect: { token: 'the.jwt.token' } }]);
    expect(protocol.url('ws://127.0.0.1:9', 42)).toBe('ws://127.0.0.1:9/connection/websocket');
    expect(protocol.protocols('t')).toEqual([]);
    expect(protocol.readyOnOpen).toBe(false);
    expect(CLIENT_PROTOCOLS['centrifugo-history']).toBe(protocol);
  });

  it('is ready on the reply to its connect command, which lists the server-side subscription', () => {
    expect(classify('{"id":1,"connect":{"client":"c","version":"6.9.1","subs":{"personal:#u":{}},"ping":25,"pong":true}}')).toEqual({ kind: 'ready', sent: [] });
  });

  it('throws on a refused connect, so that the client is closed and tried again', () => {
    expect(() => classify('{"id":1,"error":{"code":109,"message":"token expired"}}')).toThrow(/refused/);
    expect(() => classify('{"id":1,"error":{"code":101,"message":"unauthorized"}}')).toThrow(/unauthorized/);
  });

  it('answers a ping alone, first in a frame, or on a later line, and only those', () => {
    expect(classify('{}')).toEqual({ kind: 'other', sent: ['{}'] });
    expect(classify('{}\n{"push":{"channel":"personal:#u","pub":{"data":{"sent":1}}}}')).toEqual({ kind: 'event', sent: ['{}'] });
    expect(classify('{"push":{"channel":"personal:#u","pub":{"data":{"sent":1}}}}\n{}')).toEqual({ kind: 'event', sent: ['{}'] });
    expect(classify('{"push":{"channel":"personal:#u","pub":{"data":{"sent":1,"payload":{}}}}}')).toEqual({ kind: 'event', sent: [] });
    expect(classify('{"push":{"channel":"personal:#u","pub":{"data":{}}}}')).toEqual({ kind: 'other', sent: [] });
    expect(classify('{}\n{"id":1,"connect":{"client":"c"}}')).toEqual({ kind: 'ready', sent: ['{}'] });
    expect(classify('{"id":1,"connect":{"client":"c","data":{}}}')).toEqual({ kind: 'ready', sent: [] });
  });

  it('counts a publication as an event only when it carries the publisher\'s clock, and ignores other pushes', () => {
    expect(classify('{"push":{"channel":"personal:#u","pub":{"data":{"type":"new_notification","payload":{"sent":1.5}}}}}').kind).toBe('event');
    expect(classify('{"push":{"disconnect":{"code":3001,"reason":"shutdown"}}}').kind).toBe('other');
    expect(classify('{"push":{"channel":"personal:#u","join":{"info":{"user":"u"}}}}').kind).toBe('other');
    expect(classify('{"id":7,"rpc":{}}').kind).toBe('other');
    expect(classify('').kind).toBe('other');
  });

  it('counts every publication of a frame that carries several, each with its own clock', () => {
    const pushes = [101.25, 102.5, 103].map((sent) => `{"push":{"channel":"personal:#u","pub":{"data":{"payload":{"sent":${sent}}},"offset":1}}}`);
    const data = frame(pushes.join('\n'));
    const clocks: number[] = [];
    expect(forEachSent(data, (markAt) => clocks.push(sentAt(data, markAt)))).toBe(3);
    expect(clocks).toEqual([101.25, 102.5, 103]);
    expect(forEachSent(frame('{"push":{}}'))).toBe(0);
    // A Herald frame carries its one clock.
    expect(forEachSent(frame('{"type":"new_notification","seq":3,"payload":{"payload":{"sent":5}}}'))).toBe(1);
  });
});

describe('the Centrifugo config', () => {
  const settings = { port: 8123, jwtSecret: 'secret', apiKey: 'key' };

  it('subscribes every connection to its personal channel, with an HS256 secret and an API key', () => {
    const config = centrifugoConfig({ ...settings, mode: 'plain' });
    expect(config).toMatchObject({
      http_server: { port: 8123 },
      http_api: { key: 'key' },
      usage_stats: { disabled: true },
      client: { token: { hmac_secret_key: 'secret' }, subscribe_to_user_personal_channel: { enabled: true, personal_channel_namespace: 'personal' } },
      channel: { namespaces: [{ name: 'personal' }] },
    });
    expect(personalChannel('user-7')).toBe('personal:#user-7');
  });

  it('keeps history and recovery only in the history mode', () => {
    const [plain] = (centrifugoConfig({ ...settings, mode: 'plain' }).channel as { namespaces: Record<string, unknown>[] }).namespaces;
    const [history] = (centrifugoConfig({ ...settings, mode: 'history' }).channel as { namespaces: Record<string, unknown>[] }).namespaces;
    expect(plain).toEqual({ name: 'personal' });
    expect(history).toEqual({ name: 'personal', history_size: 100, history_ttl: '300s', force_recovery: true });
  });
});

describe('the Centrifugo publisher', () => {
  const requests: { url?: string; key?: string | string[]; body: { commands: Record<string, Record<string, unknown>>[] } }[] = [];
  let answer: { status: number; body: string } = { status: 200, body: '{"replies":[]}' };
  let server: Server;
  let base = '';

  beforeAll(async () => {
    server = createServer((request: IncomingMessage, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        requests.push({ url: request.url, key: request.headers['x-api-key'], body: JSON.parse(Buffer.concat(chunks).toString()) as never });
        response.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('publishes one command per user to the personal channel, through /api/batch with the API key', async () => {
    requests.length = 0;
    answer = { status: 200, body: '{"replies":[{"publish":{}},{"publish":{}}]}' };
    await new CentrifugoPublisher(base, 'the-key').publish(['a', 'b'], { note: 1 });
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request).toMatchObject({ url: '/api/batch', key: 'the-key' });
    expect(request!.body.commands.map((command) => command.publish!.channel)).toEqual(['personal:#a', 'personal:#b']);
    const data = request!.body.commands[0]!.publish!.data as { type: string; payload: { id: string; status: string; payload: { note: number; sent: number } } };
    expect(data.type).toBe('new_notification');
    expect(data.payload).toMatchObject({ status: 'unread', key: null, read_at: null, payload: { note: 1 } });
    expect(data.payload.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(data.payload.payload.sent).toBeGreaterThan(0);
  });

  it('broadcasts to every personal channel in one command, kept out of history', async () => {
    requests.length = 0;
    answer = { status: 200, body: '{"replies":[{"broadcast":{}}]}' };
    await new CentrifugoPublisher(base, 'the-key').broadcast(['a', 'b', 'c']);
    const command = requests[0]!.body.commands[0]!.broadcast!;
    expect(command).toMatchObject({ channels: ['personal:#a', 'personal:#b', 'personal:#c'], skip_history: true, data: { type: 'new_notification', broadcast: true } });
  });

  it('fails on a refused request or a command that failed inside a 200 answer', async () => {
    const publisher = new CentrifugoPublisher(base, 'the-key');
    for (const refused of [
      { status: 401, body: 'Unauthorized' },
      { status: 400, body: '{"error":{"code":107,"message":"bad request"}}' },
      { status: 200, body: '{"replies":[{"publish":{}},{"error":{"code":102,"message":"unknown channel"}}]}' },
      { status: 500, body: '' },
    ]) {
      answer = refused;
      await expect(publisher.publish(['a']), refused.body).rejects.toThrow(/\/api\/batch answered/);
    }
  });
});

describe('finding the Centrifugo binary', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-centrifugo-binary-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const log: string[] = [];
  const options = (binary: string, go: string) => ({ binary, go, log: (line: string) => log.push(line) });

  it('takes a cached binary without asking for Go', () => {
    const binary = join(dir, 'cached-centrifugo');
    writeFileSync(binary, '#!/bin/sh\n');
    chmodSync(binary, 0o755);
    expect(findCentrifugo(options(binary, join(dir, 'no-go')))).toEqual({ binary });
  });

  it('reports a missing Go, a Go that does not run, and a file that is not executable', () => {
    const notExecutable = join(dir, 'not-executable');
    writeFileSync(notExecutable, '');
    for (const go of [join(dir, 'no-go'), notExecutable]) {
      const found = findCentrifugo(options(join(dir, 'absent'), go));
      expect(found).toMatchObject({ missing: expect.stringMatching(/^Go is not installed .*cannot be built$/) as unknown });
    }
    const broken = join(dir, 'broken-go');
    writeFileSync(broken, '#!/bin/sh\necho "not go" >&2\nexit 2\n');
    chmodSync(broken, 0o755);
    expect(findCentrifugo(options(join(dir, 'absent'), broken))).toMatchObject({ missing: expect.stringContaining('not go') as unknown });
  });

  it('reports a failed build and leaves no binary behind', () => {
    // A Go that answers `version` and fails `install`: the install script runs and fails, without a network.
    const go = join(dir, 'failing-go');
    writeFileSync(go, '#!/bin/sh\nif [ "$1" = version ]; then echo "go version go0.0 fake"; exit 0; fi\necho "build failed" >&2\nexit 1\n');
    chmodSync(go, 0o755);
    const binary = join(dir, 'build', 'centrifugo');
    const found = findCentrifugo(options(binary, go));
    expect(found).toMatchObject({ missing: expect.stringMatching(/build of Centrifugo v6\.9\.1 failed .*exited 1/) as unknown });
    expect(existsSync(binary)).toBe(false);
    expect(log.some((line) => line.includes('building Centrifugo v6.9.1 once with go version go0.0 fake'))).toBe(true);
  });
});

describe('the bench options', () => {
  it('takes the Centrifugo servers by name and a steady rate', () => {
    const options = parseOptions(['--servers=ws,centrifugo,centrifugo-history,herald', '--steadyRate=500']);
    expect(options.servers).toEqual(['ws', 'centrifugo', 'centrifugo-history', 'herald']);
    expect(options.steadyRate).toBe(500);
    expect(parseOptions([]).steadyRate).toBe(2000);
    expect(parseOptions([]).servers).toEqual(['ws', 'socketio', 'centrifugo', 'centrifugo-history', 'herald']);
  });

  it('refuses an unknown server and a steady rate that is not a positive number', () => {
    for (const argv of [['--servers=ws,centrifgo'], ['--servers='], ['--servers=Herald'], ['--steadyRate=0'], ['--steadyRate=-5'], ['--steadyRate=fast'], ['--steadyRate=']]) {
      expect(() => parseOptions(argv), argv.join(' ')).toThrow(/--servers|--steadyRate/);
    }
  });
});

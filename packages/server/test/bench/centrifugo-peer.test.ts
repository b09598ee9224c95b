import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCentrifugo } from '../../../../bench/peers/centrifugo-binary.js';
import { centrifugoConfig, personalChannel } from '../../../../bench/peers/centrifugo-config.js';
import { goMemoryAfterGc, rssOf, spawnCentrifugo } from '../../../../bench/side-by-side/centrifugo-process.js';
import { setPinning } from '../../../../bench/side-by-side/pinning.js';
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

describe('reading a Go server\'s memory', () => {
  let answer = { status: 200, body: '' };
  const paths: string[] = [];
  let server: Server;
  let base = '';

  beforeAll(async () => {
    server = createServer((request, response) => {
      paths.push(request.url ?? '');
      response.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('forces a GC through pprof, takes the live heap from its MemStats and the RSS from /proc', async () => {
    answer = { status: 200, body: 'heap profile: 1: 2 [3: 4] @ heap/1048576\n\n# runtime.MemStats\n# Alloc = 999\n# HeapAlloc = 123456\n# Sys = 7\n' };
    const sample = await goMemoryAfterGc(base, process.pid);
    expect(paths.at(-1)).toBe('/debug/pprof/heap?gc=1&debug=1');
    expect(sample).toMatchObject({ heapUsed: 123456, external: 0, arrayBuffers: 0 });
    // This process's RSS, read the same way: within a factor of two of what Node.js reports.
    expect(sample.rss).toBeGreaterThan(process.memoryUsage().rss / 2);
    expect(sample.rss).toBeLessThan(process.memoryUsage().rss * 2);
  });

  it('fails on a profile without HeapAlloc, a refused request, and a process that is gone', async () => {
    for (const bad of [
      { status: 200, body: '# runtime.MemStats\n# Alloc = 5\n' },
      { status: 200, body: '# HeapAlloc = \n' },
      { status: 200, body: '' },
      { status: 404, body: '# HeapAlloc = 5\n' },
    ]) {
      answer = bad;
      await expect(goMemoryAfterGc(base, process.pid), JSON.stringify(bad)).rejects.toThrow(/HeapAlloc|answered 404/);
    }
    expect(() => rssOf(2 ** 22 + 12345)).toThrow();
  });
});

describe('starting Centrifugo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-centrifugo-start-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const start = (binary: string) => spawnCentrifugo({ binary, mode: 'history', port: 0, jwtSecret: 's', apiKey: 'k', readyTimeoutMs: 10_000 });

  /**
   * A stand-in binary, Node.js behind a shell script: it reads the config it is given, answers /health on the
   * port the config names, and logs the start-up line with the GOMAXPROCS it claims. Not Centrifugo: this checks
   * the start's own logic (config file, readiness, the GOMAXPROCS check), never Centrifugo's behaviour.
   */
  function standIn(name: string, gomaxprocs: string): string {
    const script = join(dir, `${name}.mjs`);
    writeFileSync(
      script,
      `import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
const config = JSON.parse(readFileSync(process.argv[process.argv.indexOf('--config') + 1], 'utf8'));
if (config.channel.namespaces[0].history_size !== 100) process.exit(7);
console.log(JSON.stringify({ level: 'info', gomaxprocs: ${gomaxprocs}, message: 'starting Centrifugo' }));
createServer((request, response) => response.writeHead(request.url === '/health' ? 200 : 404).end('{}')).listen(config.http_server.port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`,
    );
    const binary = join(dir, name);
    writeFileSync(binary, `#!/bin/sh\nexec "${process.execPath}" "${script}" "$@"\n`);
    chmodSync(binary, 0o755);
    return binary;
  }

  it('writes the config, waits for /health and checks that it runs with GOMAXPROCS=1', async () => {
    setPinning(false);
    const server = await start(standIn('honours', 'Number(process.env.GOMAXPROCS)'));
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.inspectorUrl).toBeUndefined();
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    await server.stop();
  });

  it('refuses one that runs with another GOMAXPROCS, exits, or cannot be spawned', async () => {
    setPinning(false);
    await expect(start(standIn('ignores', '2'))).rejects.toThrow(/did not start: it did not report running with gomaxprocs 1/);
    const exits = join(dir, 'exits');
    writeFileSync(exits, '#!/bin/sh\necho "config error: no such key" >&2\nexit 1\n');
    chmodSync(exits, 0o755);
    await expect(start(exits)).rejects.toThrow(/the process exited\nconfig error: no such key/);
    await expect(start(join(dir, 'absent'))).rejects.toThrow(/the process exited \(spawn .*absent ENOENT\)/);
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

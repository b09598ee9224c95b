import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanEnv, startHerald, type StartedHerald } from '../helpers/herald-process.js';
import { readmeBlockAfter, ROOT } from '../helpers/readme.js';
import { waitUntil } from '../helpers/wait-until.js';

// The README's "Try it" commands, as written there, against a real `herald start`: only the address is the
// test's own, and the ping interval and idle timeout are short, so that a tab that did not answer pings would be
// closed within the test.

const SECRET = 'readme-secret-that-is-long-enough-for-hs256';
const KEY = 'readme-api-key-0123456789';

/** The commands of the block from the line starting with `first` to the line ending the command (no `\` or open quote). */
function command(block: string, first: string): string {
  const lines = block.split('\n');
  const start = lines.findIndex((line) => line.startsWith(first));
  if (start < 0) throw new Error(`README's Try it block has no line starting with ${first}`);
  const taken: string[] = [];
  for (const line of lines.slice(start)) {
    taken.push(line);
    const text = taken.join('\n');
    const quotes = (text.match(/"/g) ?? []).length;
    if (!line.endsWith('\\') && quotes % 2 === 0) break;
  }
  return taken.join('\n');
}

describe("the README's Try it commands", () => {
  let herald: StartedHerald | undefined;
  let dir: string | undefined;
  const children: ReturnType<typeof spawn>[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    herald?.child.kill('SIGTERM');
    await herald?.child.exited;
    if (dir) rmSync(dir, { recursive: true, force: true });
    herald = dir = undefined;
  });

  it('mint a token, keep a tab open across many pings, deliver a publish to it, and answer the REST examples', async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-readme-'));
    const env = { HERALD_JWT_SECRET: SECRET, HERALD_API_KEY: KEY, HERALD_PING_INTERVAL_MS: '100', HERALD_IDLE_TIMEOUT_MS: '400' };
    herald = await startHerald(dir, env);
    const local = (text: string) => text.replaceAll('http://127.0.0.1:8000', herald!.url).replaceAll('ws://127.0.0.1:8000', herald!.url.replace('http', 'ws'));
    const block = readmeBlockAfter('## Try it');
    const shellEnv = cleanEnv({ ...env, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env['PATH']}` });
    const run = (script: string) => {
      const child = spawn('bash', ['-c', script], { cwd: ROOT, env: shellEnv });
      children.push(child);
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      return { output: () => out, exited };
    };

    const tokenLine = command(block, 'TOKEN=');
    const mint = run(`${tokenLine}\nprintf '%s' "$TOKEN"`);
    expect(await mint.exited).toBe(0);
    const token = mint.output().trim();
    expect(token.split('.')).toHaveLength(3);

    // The tab, without its trailing `&`: this test holds the process itself.
    const tab = run(`TOKEN=${token}\n${local(command(block, 'node -e')).replace(/\s*&\s*$/, '')}`);
    await waitUntil(async () => tab.output().includes('"type":"connected"'), 'the tab is connected', 10_000);
    // Ten idle timeouts' worth of pings: a tab that did not answer would be gone.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect(tab.output().match(/"type":"ping"/g)?.length ?? 0).toBeGreaterThan(10);

    const publish = run(`KEY=${KEY}\n${local(command(block, 'curl'))}`);
    expect(await publish.exited).toBe(0);
    await waitUntil(async () => tab.output().includes('"type":"new_notification"'), 'the tab got the notification', 10_000);
    expect(tab.output()).toContain('"key":"build-1842"');
    const stillOpen = await Promise.race([tab.exited.then(() => false), new Promise((resolve) => setTimeout(() => resolve(true), 200))]);
    expect(stillOpen).toBe(true);

    // The REST API's examples, as written, against the same server, tab and token.
    const inbox = run(`TOKEN=${token}\n${local(readmeBlockAfter('### The user\'s inbox'))}`);
    expect(await inbox.exited).toBe(0);
    expect(inbox.output()).toContain('"items":[{"id":"');
    expect(inbox.output()).toContain('"key":"build-1842"');
    expect(inbox.output()).toMatch(/\{"count":1,"seq":\d+\}/);
    expect(inbox.output()).toMatch(/\{"unread":1,"unseen":1,"categories":\{\},"seq":\d+\}/);
    // The action example names a placeholder id: the answer says so, in the error shape.
    expect(inbox.output()).toContain('{"error":"not_found","message":"no notification \\"<id>\\" in this inbox"}');
    expect(inbox.output()).toContain('{"notification_ids":[]}');
    expect(inbox.output()).toContain('{"changed":true}');
    const publishing = run(`KEY=${KEY}\n${local(readmeBlockAfter('### Publishing'))}`);
    expect(await publishing.exited).toBe(0);
    expect(publishing.output()).toContain('"accepted":2,"stored":2');
    expect(publishing.output()).toContain('{"connections":1}');
    const operations = run(local(readmeBlockAfter('### Operations')));
    expect(await operations.exited).toBe(0);
    expect(operations.output()).toContain('{"status":"ok"}');
    expect(operations.output()).toContain('"status":"ready"');
    expect(operations.output()).toContain('herald_build_info');
  }, 60_000);
});

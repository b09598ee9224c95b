import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/mint-token.js';
import { httpRequest } from '../helpers/http-request.js';
import { cleanEnv, runHerald, startHerald, type StartedHerald } from '../helpers/herald-process.js';
import { eventFrameSize, sentSize, sizedPayload } from '../ingest/frame-sized.js';
import { SizedTab } from '../ingest/sized-tab.js';

const SECRET = 'frame-limit-startup-secret-long-enough';
const API_KEY = 'frame-limit-startup-api-key';

/** `herald start` checks HERALD_MAX_BUFFERED_BYTES against HERALD_MAX_BODY_BYTES before it opens anything. */
describe('herald start and the frame bound', () => {
  const dirs: string[] = [];
  let started: StartedHerald | undefined;
  afterEach(async () => {
    started?.child.kill('SIGTERM');
    await started?.child.exited;
    started = undefined;
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-frame-limit-'));
    dirs.push(dir);
    return dir;
  };

  it.each<Record<string, string>>([
    { HERALD_MAX_BUFFERED_BYTES: '1048576' },
    { HERALD_MAX_BODY_BYTES: '2097152' },
    { HERALD_MAX_BUFFERED_BYTES: '4096', HERALD_MAX_BODY_BYTES: '3073' },
    { HERALD_MAX_BUFFERED_BYTES: '65536' },
  ])('exits 1 with one line naming both variables for %j, and creates nothing (no data folder)', async (limits) => {
    const dir = tempDir();
    const result = await runHerald(['start'], {
      cwd: dir,
      env: cleanEnv({ HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_DATA_DIR: join(dir, 'data'), HERALD_JWT_SECRET: SECRET, ...limits }),
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid configuration: HERALD_MAX_BUFFERED_BYTES \(\d+\) must be at least HERALD_MAX_BODY_BYTES \(\d+\) \+ 1024/);
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('serves with a small bound and a matching body limit: the item at the bound reaches the tab, the one over it is a 413', async () => {
    const dir = tempDir();
    started = await startHerald(dir, {
      HERALD_JWT_SECRET: SECRET,
      HERALD_API_KEY: API_KEY,
      HERALD_MAX_BUFFERED_BYTES: '4096',
      HERALD_MAX_BODY_BYTES: '3072',
    });
    const wsUrl = `${started.url.replace(/^http/, 'ws')}/ws/notifications`;
    const tab = await SizedTab.open(wsUrl, await mintToken(SECRET, 'alice'));
    const publish = (target: number) => {
      const payload = sizedPayload((json) => eventFrameSize('new_notification', json), target, { pad: '😀', bigNumbers: 170 });
      const rawBody = `{"user_id":"alice","type":"new_notification","payload":${payload.text}}`;
      return httpRequest(started!.url, '/publish', { bearer: API_KEY, rawBody });
    };
    const over = await publish(4097);
    expect(over.status).toBe(413);
    expect(over.body.error).toBe('payload_too_large');
    expect(over.body.message).toContain('HERALD_MAX_BUFFERED_BYTES (4096)');
    expect((await publish(4096)).status).toBe(200);
    expect((await tab.event(1)).bytes).toBe(sentSize(4096, 1));
    expect((await publish(4096)).status).toBe(200);
    expect((await tab.event(2)).bytes).toBe(sentSize(4096, 2));
    tab.expectOpen();
    await tab.close();
  });
});

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// The test command's preflight (scripts/test-prerequisites.sh), run with a PATH that lacks some of the tools the
// suites need: it must stop at once, in one line naming each missing tool and the command that installs it.

const SCRIPT = fileURLToPath(new URL('../../../../scripts/test-prerequisites.sh', import.meta.url));
const which = (tool: string) => execFileSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();

describe('the test command’s prerequisites', () => {
  let bin: string | undefined;
  afterEach(() => {
    if (bin) rmSync(bin, { recursive: true, force: true });
    bin = undefined;
  });

  const runWith = (tools: string[], env: Record<string, string> = {}) => {
    bin = mkdtempSync(join(tmpdir(), 'herald-prereq-'));
    for (const tool of ['bash', 'id', 'dirname', ...tools]) symlinkSync(which(tool), join(bin, tool));
    return spawnSync(join(bin, 'bash'), [SCRIPT], { env: { PATH: bin, HERALD_TEST_NO_INSTALL: '1', ...env }, encoding: 'utf8' });
  };

  it.each([
    [['openssl', 'java', 'mvn', 'redis-server'], 'chromium promtool kcat', 'chromium prometheus kcat'],
    [['chromium', 'promtool', 'kcat', 'openssl', 'redis-server'], 'java mvn', 'openjdk-17-jre-headless maven'],
    [['chromium', 'promtool', 'kcat', 'java', 'mvn'], 'openssl redis-server', 'openssl redis-server'],
  ])('with only %j it names %s and how to install them', (present, missing, packages) => {
    const run = runWith(present);
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([`npm test needs ${missing}; install with: sudo apt-get install ${packages}`]);
    expect(run.stdout).toBe('');
  });

  it('does not ask for what a running service given by variable replaces', () => {
    const run = runWith(['openssl', 'chromium', 'kcat'], { HERALD_TEST_KAFKA_BROKERS: '127.0.0.1:9', HERALD_TEST_REDIS_URL: 'redis://127.0.0.1:9' });
    expect(run.stderr.trim()).toBe('npm test needs promtool; install with: sudo apt-get install prometheus');
  });
});

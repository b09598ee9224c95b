import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { cleanEnv, runHerald } from '../helpers/herald-process.js';

const SECRET = 'cli-test-secret-that-is-long-enough-for-hs256';
const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const CONFIGURATION_LINK = 'https://github.com/herald-gateway/herald#configuration';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory and, inside it, where herald would put its data: to check that nothing went there. */
function dataDir(): string {
  const cwd = mkdtempSync(join(tmpdir(), 'herald-cli-usage-'));
  dirs.push(cwd);
  return join(cwd, 'data');
}

/**
 * runCli in this process, its output collected: the same code the bin runs, without a Node start per case, so the
 * many bad forms stay cheap. The bin itself is run by the tests at the end.
 */
async function herald(args: string[]) {
  const dir = dataDir();
  let stdout = '';
  let stderr = '';
  const env = cleanEnv({ HERALD_DATA_DIR: dir, HERALD_JWT_SECRET: SECRET });
  const code = await runCli(args, { env, out: (text) => (stdout += text), err: (text) => (stderr += text) });
  return { code, stdout, stderr, dataDir: dir };
}

describe('herald --help, --version and wrong command lines', () => {
  it.each([['--version'], ['-v']])('%s prints the version of @herald/server and nothing else', async (flag) => {
    const result = await herald([flag]);
    expect(result).toMatchObject({ code: 0, stdout: `${manifest.version}\n`, stderr: '' });
  });

  it.each([[['--help']], [['-h']], [['help']], [['help', 'help']], [['--help', 'help']]])(
    'herald %j lists the commands and points to the configuration table',
    async (args) => {
      const result = await herald(args);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^Usage: herald \[command\] \[options\]\n/);
      for (const command of ['start', 'token <user-id> [--ttl <span>]', 'help [command]']) {
        expect(result.stdout).toMatch(new RegExp(`^  ${command.replace(/[[\]]/g, '\\$&')} +\\S`, 'm'));
      }
      expect(result.stdout).toContain('-v, --version');
      expect(result.stdout).toContain(`Configuration table of the README:\n  ${CONFIGURATION_LINK}\n`);
    },
  );

  it.each([[['start', '--help']], [['start', '-h']], [['help', 'start']], [['--help', 'start']]])(
    'herald %j shows the help of start and does not start',
    async (args) => {
      const result = await herald(args);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^Usage: herald start\n/);
      expect(result.stdout).toContain(CONFIGURATION_LINK);
      // A server would have created its database (and development secrets) there.
      expect(existsSync(result.dataDir)).toBe(false);
    },
  );

  it.each([[['token', '--help']], [['token', '-h']], [['token', 'alice', '--help']], [['help', 'token']], [['token', '--ttl', 'abc', '--help']]])(
    'herald %j shows the help of token and mints nothing',
    async (args) => {
      const result = await herald(args);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^Usage: herald token <user-id> \[--ttl <span>\]\n/);
      expect(result.stdout).toContain('--ttl <span>');
      expect(result.stdout).not.toMatch(/eyJ/);
    },
  );

  const TTL_FORMS = 'give a whole number and a unit, s, m, h or d (such as 90s, 30m, 1h or 7d)';
  it.each<{ args: string[]; error: string; help: string }>([
    { args: ['frobnicate'], error: '"frobnicate" is not a herald command (start, token, help)', help: 'herald --help' },
    { args: ['help', 'frobnicate'], error: '"frobnicate" is not a herald command (start, token, help)', help: 'herald --help' },
    { args: ['--bogus'], error: 'herald has no option --bogus', help: 'herald --help' },
    { args: ['-x', 'start'], error: 'herald has no option -x', help: 'herald --help' },
    { args: ['--ttl', '1h', 'token', 'alice'], error: 'herald has no option --ttl', help: 'herald --help' },
    { args: ['--help=yes'], error: 'herald: --help takes no value', help: 'herald --help' },
    { args: ['--version', 'start'], error: 'herald --version takes nothing else', help: 'herald --help' },
    { args: ['--version', '--help'], error: 'herald --version takes nothing else', help: 'herald --help' },
    { args: ['help', 'token', 'start'], error: 'herald help: unexpected "start"', help: 'herald --help' },
    { args: ['help', '--all'], error: 'herald help has no option --all', help: 'herald --help' },
    { args: ['start', '--port', '8000'], error: 'herald start has no option --port', help: 'herald start --help' },
    { args: ['start', 'now'], error: 'herald start takes no arguments, got "now"', help: 'herald start --help' },
    { args: ['start', '--help=1'], error: 'herald start: --help takes no value', help: 'herald start --help' },
    { args: ['token'], error: 'herald token needs <user-id>', help: 'herald token --help' },
    { args: ['token', '--ttl', '1h'], error: 'herald token needs <user-id>', help: 'herald token --help' },
    { args: ['token', 'alice', 'bob'], error: 'herald token: unexpected "bob"', help: 'herald token --help' },
    { args: ['token', 'alice', '--bogus'], error: 'herald token has no option --bogus', help: 'herald token --help' },
    { args: ['token', 'alice', '-t', '1h'], error: 'herald token has no option -t', help: 'herald token --help' },
    { args: ['token', 'alice', '--ttl'], error: 'herald token: --ttl needs a value', help: 'herald token --help' },
    { args: ['token', 'alice', '--ttl='], error: 'herald token: --ttl needs a value', help: 'herald token --help' },
    { args: ['token', 'alice', '--ttl', '1h', '--ttl', '2h'], error: 'herald token: --ttl is given twice', help: 'herald token --help' },
    { args: ['token', 'alice', '--ttl', '-5m'], error: `--ttl -5m is negative: the token would have expired already; ${TTL_FORMS}`, help: 'herald token --help' },
    { args: ['token', 'alice', '--ttl=-1s'], error: `--ttl -1s is negative: the token would have expired already; ${TTL_FORMS}`, help: 'herald token --help' },
    { args: ['token', 'alice', '--ttl', '0m'], error: `--ttl 0m is zero: the token would have expired already; ${TTL_FORMS}`, help: 'herald token --help' },
    { args: ['token', 'alice', '--ttl', '000s'], error: `--ttl 000s is zero: the token would have expired already; ${TTL_FORMS}`, help: 'herald token --help' },
    { args: ['token', 'alice', '--ttl', '1.5h'], error: `--ttl "1.5h" is not a duration: ${TTL_FORMS}`, help: 'herald token --help' },
    { args: ['token', 'alice', '--ttl', '300'], error: `--ttl "300" is not a duration: ${TTL_FORMS}`, help: 'herald token --help' },
    { args: ['token', 'alice', '--ttl', '5 m'], error: `--ttl "5 m" is not a duration: ${TTL_FORMS}`, help: 'herald token --help' },
    { args: ['token', 'alice', '--ttl', '5w'], error: `--ttl "5w" is not a duration: ${TTL_FORMS}`, help: 'herald token --help' },
    { args: ['token', 'alice', '--ttl', '1h ago'], error: `--ttl "1h ago" is not a duration: ${TTL_FORMS}`, help: 'herald token --help' },
    { args: ['token', 'alice', '--ttl', '1H'], error: `--ttl "1H" is not a duration: ${TTL_FORMS}`, help: 'herald token --help' },
    { args: ['token', 'alice', '--ttl', '3651d'], error: '--ttl 3651d is longer than 3650d (ten years)', help: 'herald token --help' },
    { args: ['token', 'alice', '--ttl', '99999999999999999999s'], error: '--ttl 99999999999999999999s is longer than 3650d (ten years)', help: 'herald token --help' },
  ])('refuses herald $args with one line and exit 2, touching nothing', async ({ args, error, help }) => {
    const result = await herald(args);
    expect(result).toMatchObject({ code: 2, stdout: '', stderr: `${error}\nRun \`${help}\` for usage.\n` });
    expect(existsSync(result.dataDir)).toBe(false);
  });
});

// The bin as a user runs it: the exit code reaches the shell, and `start --help` leaves no server running.
describe.concurrent('the herald bin', () => {
  const bin = async (args: string[]) => {
    const dir = dataDir();
    const result = await runHerald(args, { env: cleanEnv({ HERALD_DATA_DIR: dir, HERALD_JWT_SECRET: SECRET }), cwd: join(dir, '..'), timeoutMs: 10_000 });
    return { ...result, dataDir: dir };
  };

  it('prints the version and exits 0', async () => {
    expect(await bin(['--version'])).toMatchObject({ code: 0, signal: null, stdout: `${manifest.version}\n`, stderr: '' });
  });

  it('shows the help of start, exits 0 and starts nothing', async () => {
    const result = await bin(['start', '--help']);
    expect(result).toMatchObject({ code: 0, signal: null, stderr: '' });
    expect(result.stdout).toMatch(/^Usage: herald start\n/);
    expect(existsSync(result.dataDir)).toBe(false);
  });

  it('exits 2 for a --ttl that would mint an expired token', async () => {
    const result = await bin(['token', 'alice', '--ttl', '-5m']);
    expect(result).toMatchObject({ code: 2, signal: null, stdout: '' });
    expect(result.stderr).toMatch(/^--ttl -5m is negative/);
  });
});

import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/mint-token.js';
import { CONFIG_VARIABLES, ENV_SCHEMA, loadConfig } from '../../src/config.js';
import { createStore } from '../../src/store/create-store.js';
import { unknownVariables } from '../../src/unknown-variables.js';
import { dropDatabase, freshPostgresUrl } from '../helpers/databases.js';
import { freePort } from '../helpers/free-port.js';
import { cleanEnv, HeraldProcess, runHerald } from '../helpers/herald-process.js';
import { TestClient } from '../helpers/ws-client.js';
import { configError } from '../helpers/config-error.js';
import { processSandbox } from '../helpers/process-sandbox.js';

const SECRET = 'conventions-test-secret-long-enough-for-hs256';
const API_KEY = 'conventions-test-api-key-0123';
/** A password in every URL below: no message may quote it. */
const PASSWORD = 's3cret-pw-never-shown';

/** The values an enum variable takes, whether written as Type.Enum or as a union of literals; undefined for others. */
function allowedValues(schema: { enum?: unknown[]; anyOf?: Array<{ const?: unknown }> }): string[] | undefined {
  if (Array.isArray(schema.enum)) return schema.enum.map(String);
  if (Array.isArray(schema.anyOf) && schema.anyOf.every((branch) => 'const' in branch)) return schema.anyOf.map((branch) => String(branch.const));
  return undefined;
}

const ENUMS = Object.entries(ENV_SCHEMA.properties as Record<string, Parameters<typeof allowedValues>[0]>)
  .map(([name, schema]) => [name, allowedValues(schema)] as const)
  .filter((entry): entry is readonly [string, string[]] => entry[1] !== undefined);

describe('configuration errors', () => {
  it('finds the enum variables', () => {
    expect(ENUMS.map(([name]) => name)).toEqual(expect.arrayContaining(['HERALD_LOG_LEVEL', 'HERALD_SQLITE_SYNCHRONOUS', 'HERALD_JWT_REQUIRE_EXP']));
  });

  it.each(ENUMS)('%s: a value it does not take is refused with every value it does', (name, values) => {
    for (const bad of ['not-a-value', values[0]!.toUpperCase() + 'x', ' ']) {
      expect(configError({ [name]: bad }).message).toBe(`Invalid configuration: ${name} must be equal to one of the allowed values (${values.join(', ')})`);
    }
  });

  const badUrls = [
    ['mysql', `mysql://herald:${PASSWORD}@db.example:3306/herald`, /the scheme "mysql:"/],
    ['http', `http://herald:${PASSWORD}@db.example/herald`, /the scheme "http:"/],
    ['https', 'https://db.example/herald.db', /the scheme "https:"/],
    ['ftp', `ftp://herald:${PASSWORD}@files.example/herald.db`, /the scheme "ftp:"/],
    ['a bare word with a colon', 'herald:db', /the scheme "herald:"/],
    ['mongodb+srv', `mongodb+srv://herald:${PASSWORD}@cluster.example/herald`, /the scheme "mongodb\+srv:"/],
    ['redis', 'redis://127.0.0.1:6379', /the scheme "redis:"/],
    ['postgres without //', `postgres:herald:${PASSWORD}@db.example/herald`, /"postgres:" without "\/\/"/],
    ['postgresql with one /', 'postgresql:/db.example/herald', /"postgresql:" without "\/\/"/],
    ['sqlite: and nothing', 'sqlite:', /names no file after "sqlite:"/],
    ['file:// and nothing', 'file://', /names no file after "file:"/],
  ] as const;

  it.each(badUrls)('refuses HERALD_DATABASE_URL with %s, naming the variable and never the password', (_name, url, says) => {
    const { message } = configError({ HERALD_DATABASE_URL: url });
    expect(message).toMatch(/^Invalid configuration: HERALD_DATABASE_URL /);
    expect(message).toMatch(says);
    expect(message).toContain('postgres://');
    expect(message).not.toContain(PASSWORD);
    expect(message).not.toContain('\n');
  });

  it.each(badUrls)('createStore refuses a URL with %s too, for a library caller, creating nothing', (_name, url) => {
    const cwd = process.cwd();
    const before = readdirSync(cwd);
    try {
      expect(() => createStore(url)).toThrow(/^The database URL /);
      expect(readdirSync(cwd)).toEqual(before);
    } finally {
      // Taken for a SQLite path, the URL would have made a folder here: it goes again.
      for (const entry of readdirSync(cwd)) if (!before.includes(entry)) rmSync(join(cwd, entry), { recursive: true, force: true });
    }
  });

  it.each([
    ['a relative path', './data/herald.db'],
    ['an absolute path', '/var/lib/herald/herald.db'],
    ['sqlite:///', 'sqlite:///var/lib/herald/herald.db'],
    ['sqlite:', 'sqlite:data/herald.db'],
    ['file:', 'file:data/herald.db'],
    ['a Windows drive', 'C:\\herald\\herald.db'],
    ['postgres://', `postgres://herald:${PASSWORD}@db.example:5432/herald`],
    ['postgresql:// in capitals', 'POSTGRESQL://db.example/herald'],
  ])('takes HERALD_DATABASE_URL as %s', (_name, url) => {
    expect(loadConfig({ HERALD_DATABASE_URL: url }).databaseUrl).toBe(url);
  });

  it('lists the HERALD_* variables it does not read, and only those', () => {
    const known = Object.fromEntries(CONFIG_VARIABLES.map((name) => [name, 'x']));
    expect(unknownVariables(known)).toEqual([]);
    expect(
      unknownVariables({ ...known, HERALD_LOG_LEVL: 'debug', HERALD_PROT: '9000', HERALD_: '', HERALD_API_KEYS: '', PATH: '/bin', herald_port: '1', NODE_ENV: 'x' }),
    ).toEqual(['HERALD_', 'HERALD_API_KEYS', 'HERALD_LOG_LEVL', 'HERALD_PROT']);
  });
});

describe('the herald process at start-up', () => {
  const { tempDir, running } = processSandbox('herald-conventions-');

  /** `herald start` in a fresh directory; it is expected to fail: its exit, and the lines it wrote. */
  async function failedStart(env: Record<string, string>, timeoutMs = 30_000) {
    const cwd = tempDir();
    const run = await runHerald(['start'], {
      cwd,
      env: cleanEnv({ HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_DATA_DIR: join(cwd, 'data'), ...env }),
      timeoutMs,
    });
    return { ...run, cwd, stderrLines: run.stderr.trim().split('\n') };
  }

  /** Every line of stdout, each of which must be a JSON log line. */
  function logLines(stdout: string): Array<Record<string, any>> {
    return stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        try {
          return JSON.parse(line) as Record<string, any>;
        } catch {
          throw new Error(`stdout has a line that is not JSON: ${line}`);
        }
      });
  }

  async function start(env: Record<string, string>): Promise<{ child: HeraldProcess; url: string }> {
    const cwd = tempDir();
    const child = new HeraldProcess(['start'], {
      cwd,
      env: cleanEnv({ HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_DATA_DIR: join(cwd, 'data'), ...env }),
    });
    running.push(child);
    const line = await child.waitForLog((entry) => entry['msg'] === 'Herald is listening');
    return { child, url: line['url'] as string };
  }

  it('prints an enum variable’s error with its values and exits 1', async () => {
    const run = await failedStart({ HERALD_LOG_LEVEL: 'loud' });
    expect(run.code).toBe(1);
    expect(run.stderrLines).toEqual([
      'Invalid configuration: HERALD_LOG_LEVEL must be equal to one of the allowed values (fatal, error, warn, info, debug, trace, silent)',
    ]);
  });

  it.each([
    ['mysql://', `mysql://herald:${PASSWORD}@db.example/herald`],
    ['http://', 'http://db.example/herald'],
    ['ftp://', 'ftp://files.example/herald.db'],
    ['a bare word with a colon', 'herald:db'],
  ])('refuses HERALD_DATABASE_URL as %s and creates no file or folder', async (_name, url) => {
    const run = await failedStart({ HERALD_DATABASE_URL: url, HERALD_JWT_SECRET: SECRET, HERALD_API_KEY: API_KEY });
    expect(run.code).toBe(1);
    expect(run.stderrLines).toHaveLength(1);
    expect(run.stderrLines[0]).toMatch(/^Invalid configuration: HERALD_DATABASE_URL has the scheme "[a-z]+:"/);
    expect(run.stderr).not.toContain(PASSWORD);
    expect(readdirSync(run.cwd)).toEqual([]);
  });

  const unreachable = async (): Promise<Array<[string, string]>> => [
    ['a refused port', `127.0.0.1:${await freePort()}`],
    ['an unknown host', 'db.herald.invalid:5432'],
  ];

  it('names HERALD_DATABASE_URL when PostgreSQL refuses the connection or its host is unknown', async () => {
    for (const [what, hostPort] of await unreachable()) {
      const run = await failedStart({ HERALD_DATABASE_URL: `postgres://herald:${PASSWORD}@${hostPort}/herald`, HERALD_JWT_SECRET: SECRET });
      expect({ what, code: run.code }).toEqual({ what, code: 1 });
      expect(run.stderrLines, what).toHaveLength(1);
      expect(run.stderrLines[0], what).toMatch(/^Herald could not start: HERALD_DATABASE_URL: the database did not answer \(.+\)$/);
      expect(run.stderrLines[0], what).toMatch(what === 'an unknown host' ? /ENOTFOUND|EAI_AGAIN/ : /ECONNREFUSED/);
      expect(run.stderr + run.stdout, what).not.toContain(PASSWORD);
    }
  });

  it('names HERALD_REDIS_URL when Redis refuses the connection or its host is unknown', async () => {
    const databaseUrl = await freshPostgresUrl();
    try {
      for (const [what, hostPort] of await unreachable()) {
        const run = await failedStart({
          HERALD_DATABASE_URL: databaseUrl,
          HERALD_REDIS_URL: `redis://herald:${PASSWORD}@${hostPort.replace(':5432', ':6379')}`,
          HERALD_JWT_SECRET: SECRET,
        });
        expect({ what, code: run.code }).toEqual({ what, code: 1 });
        expect(run.stderrLines, what).toHaveLength(1);
        expect(run.stderrLines[0], what).toMatch(/^Herald could not start: HERALD_REDIS_URL: /);
        expect(run.stderr + run.stdout, what).not.toContain(PASSWORD);
      }
    } finally {
      await dropDatabase(databaseUrl);
    }
  });

  it('warns about each HERALD_* variable it does not read, by name, and about none it reads', async () => {
    const typos = ['HERALD_API_KEYS', 'HERALD_DATABSE_URL', 'HERALD_JWT_SECRETT', 'HERALD_LOG_LEVL', 'HERALD_PROT'];
    const { child } = await start({
      HERALD_JWT_SECRET: SECRET,
      HERALD_API_KEY: API_KEY,
      HERALD_LOG_LEVEL: 'info',
      ...Object.fromEntries(typos.map((name) => [name, 'debug'])),
    });
    const warned = logLines(child.stdout).filter((entry) => entry['level'] === 40 && entry['variable'] !== undefined);
    expect(warned.map((entry) => entry['variable'])).toEqual(typos);
    for (const entry of warned) expect(entry['msg']).toContain(`${entry['variable']} is not a Herald variable`);
  });

  it('writes its development hints as JSON log lines, never plain text between them', async () => {
    const { child } = await start({});
    await child.waitForLog((entry) => String(entry['msg']).includes('herald token'));
    const lines = logLines(child.stdout);
    const hints = lines.filter((entry) => /generated one in|herald token/.test(String(entry['msg'])));
    expect(hints.map((entry) => entry['level'])).toEqual([30, 30, 30]);
    expect(hints.filter((entry) => entry['file'] !== undefined)).toHaveLength(2);
    const mint = hints.find((entry) => String(entry['msg']).includes('herald token'))!;
    expect(mint['websocket']).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws\/notifications\?token=<token>$/);
    expect(mint['inbox']).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=<token>$/);
  });

  it('logs at debug each connection opened, closed with its code, and idle-terminated, and never its token', async () => {
    const { child, url } = await start({
      HERALD_JWT_SECRET: SECRET,
      HERALD_API_KEY: API_KEY,
      HERALD_LOG_LEVEL: 'debug',
      HERALD_PING_INTERVAL_MS: '100',
      HERALD_IDLE_TIMEOUT_MS: '400',
    });
    const wsUrl = `${url.replace(/^http/, 'ws')}/ws/notifications`;
    const token = await mintToken(SECRET, 'debug-closer');
    const closer = await TestClient.open(wsUrl, token);
    await closer.waitForType('connected');
    closer.ws.close(4321, 'done here');
    await closer.closed;
    const idleToken = await mintToken(SECRET, 'debug-idler');
    const idler = await TestClient.connect(`${wsUrl}?token=${idleToken}`, { autoPong: false });
    expect((await idler.closed).code).toBe(1006);

    const closed = await child.waitForLog((entry) => entry['msg'] === 'websocket closed' && entry['user'] === 'debug-idler');
    expect(closed).toMatchObject({ level: 20, code: 1006 });
    const lines = logLines(child.stdout).filter((entry) => String(entry['msg']).startsWith('websocket '));
    const opened = lines.filter((entry) => entry['msg'] === 'websocket opened');
    expect(opened.map((entry) => entry['user'])).toEqual(['debug-closer', 'debug-idler']);
    for (const entry of opened) expect(entry).toMatchObject({ level: 20, connection: expect.any(Number), address: '127.0.0.1' });
    expect(lines.find((entry) => entry['msg'] === 'websocket closed' && entry['user'] === 'debug-closer')).toMatchObject({ level: 20, code: 4321 });
    expect(lines.find((entry) => entry['msg'] === 'websocket idle: terminated')).toMatchObject({
      level: 20,
      user: 'debug-idler',
      idleMs: expect.any(Number),
    });
    for (const secret of [token, idleToken, token.split('.')[2]!, idleToken.split('.')[2]!]) expect(child.output).not.toContain(secret);
  });

  it('writes no connection line below debug', async () => {
    const { child, url } = await start({ HERALD_JWT_SECRET: SECRET, HERALD_API_KEY: API_KEY, HERALD_LOG_LEVEL: 'info' });
    const client = await TestClient.open(`${url.replace(/^http/, 'ws')}/ws/notifications`, await mintToken(SECRET, 'info-user'));
    await client.waitForType('connected');
    await client.close();
    // What the process logged by now has reached this side: the opened line went out before `connected`.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(child.stdout).toContain('Herald is listening');
    expect(child.stdout).not.toContain('websocket ');
  });
});

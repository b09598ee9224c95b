import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleError } from '../../src/http/error-handler.js';
import { inboxPage } from '../../src/http/inbox-page.js';
import { rawGet } from '../helpers/raw-get.js';

/**
 * A page folder that holds what a deployment might leave beside the page: dotfiles, and symlinks leading out of
 * it. The base folder's own name starts with a dot, so a rule that looked at the whole path instead of the path
 * inside the page would refuse the page itself and fail the first test.
 */
const base = mkdtempSync(join(tmpdir(), '.herald-page-files-'));
const page = join(base, 'page');
const outside = join(base, 'outside');
const SECRET = 'outside-secret-3f9a';
const HOSTNAME = readFileSync('/etc/hostname', 'utf8').trim();

function file(path: string, contents: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, contents);
}

function buildFixture(): void {
  file(join(outside, 'secret.txt'), SECRET);
  file(join(outside, 'dir', 'leak.js'), SECRET);
  file(join(page, 'index.html'), '<!doctype html><title>fixture page</title>');
  file(join(page, '.env'), `SECRET=${SECRET}`);
  file(join(page, '.git', 'config'), `[core] ${SECRET}`);
  file(join(page, 'assets', 'app.js'), 'app-js');
  file(join(page, 'assets', 'sub', 'real.js'), 'sub-real-js');
  file(join(page, 'assets', '.hidden.js'), SECRET);
  file(join(page, 'assets', '.well', 'inner.js'), SECRET);
  const assets = join(page, 'assets');
  // Served: a symlink from one page file to another (decided: the real path is what must stay inside).
  symlinkSync('app.js', join(assets, 'alias.js'));
  symlinkSync('../app.js', join(assets, 'sub', 'up.js'));
  // Refused by `dotfiles: 'ignore'` alone: a dot name whose target is an ordinary page file.
  symlinkSync('app.js', join(assets, '.alias.js'));
  // Refused by the real-path rule alone: an ordinary name leading to a dotfile, out of assets/, out of the page.
  symlinkSync('.hidden.js', join(assets, 'visible.js'));
  symlinkSync('../.env', join(assets, 'env.txt'));
  symlinkSync(join(outside, 'secret.txt'), join(assets, 'out.txt'));
  symlinkSync('/etc/hostname', join(assets, 'hostname'));
  symlinkSync(join(outside, 'dir'), join(assets, 'outdir'));
  symlinkSync(join(base, 'nowhere.js'), join(assets, 'dangling.js'));
  // A second page whose index.html leads outside, and a root that is itself a symlink to the first page.
  file(join(base, 'page2', 'assets', 'app.js'), 'app-js');
  symlinkSync(join(outside, 'secret.txt'), join(base, 'page2', 'index.html'));
  symlinkSync(page, join(base, 'current'));
}

/** The page plugin under Herald's error handler, on a real socket. */
async function servePage(root: string): Promise<{ app: FastifyInstance; baseUrl: string }> {
  const app = Fastify();
  app.setErrorHandler(handleError);
  await app.register(inboxPage, { root });
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, baseUrl };
}

/** Every form of reaching a file that must stay unserved. Each answers 404, says nothing of the folder. */
const REFUSED = [
  // dotfiles and dot-folders, plain and encoded
  '/assets/.hidden.js',
  '/assets/%2ehidden.js',
  '/assets/%2Ehidden.js',
  '/assets/.well/inner.js',
  '/assets/%2ewell/inner.js',
  '/assets/.alias.js',
  '/assets/./.hidden.js',
  '/assets/sub/../.hidden.js',
  '/assets/sub/..%2f.hidden.js',
  '/assets/sub/%2e%2e/.hidden.js',
  // out of assets/ to the page's dotfiles
  '/assets/../.env',
  '/assets/%2e%2e/.env',
  '/assets/..%2f.env',
  '/assets/..%2F.git/config',
  '/assets/%2e%2e%2f.env',
  '/assets/%2e%2e%2F%2e%2e%2Foutside/secret.txt',
  '/assets/..%5c.env',
  '/assets/%5c..%5c.env',
  '/assets/..%252f.env',
  '/assets//.env',
  '/assets//etc/hostname',
  '//assets/../.env',
  '/assets/%2f%2e%2e%2f.env',
  '/assets/..\\.env',
  '/assets/\\..\\..\\outside\\secret.txt',
  '/assets/sub\\..\\.hidden.js',
  // symlinks that lead out of assets/, to a dotfile, or nowhere
  '/assets/visible.js',
  '/assets/env.txt',
  '/assets/out.txt',
  '/assets/%6fut.txt',
  '/assets/hostname',
  '/assets/outdir/leak.js',
  '/assets/outdir%2fleak.js',
  '/assets/outdir/',
  '/assets/outdir',
  '/assets/dangling.js',
  // NUL, a file as a folder, a case alias
  '/assets/app.js%00',
  '/assets/%00',
  '/assets/app.js/',
  '/assets/APP.js',
  // outside /assets/: not a file route at all
  '/.env',
  '/%2eenv',
  '/.git/config',
  '/index.html/../.env',
];

describe('the page serves only its own files', () => {
  let served: { app: FastifyInstance; baseUrl: string };
  beforeAll(async () => {
    buildFixture();
    served = await servePage(page);
  });
  afterAll(async () => {
    await served?.app.close();
    rmSync(base, { recursive: true, force: true });
  });

  it('serves the page, its files, and a symlink from one page file to another', async () => {
    const index = await rawGet(served.baseUrl, '/');
    expect(index.status).toBe(200);
    expect(index.body).toContain('fixture page');
    for (const [target, body] of [
      ['/assets/app.js', 'app-js'],
      ['/assets/sub/real.js', 'sub-real-js'],
      ['/assets/alias.js', 'app-js'],
      ['/assets/sub/up.js', 'app-js'],
    ] as const) {
      const answer = await rawGet(served.baseUrl, target);
      expect([answer.status, answer.body], target).toEqual([200, body]);
    }
  });

  it.each(REFUSED)('answers %s with 404 and nothing of the file or the folder', async (target) => {
    const answer = await rawGet(served.baseUrl, target);
    expect(answer.status, answer.raw).toBe(404);
    expect(answer.raw).not.toContain(SECRET);
    expect(answer.raw).not.toContain(base);
    expect(answer.raw).not.toContain('app-js');
    if (HOSTNAME !== '') expect(answer.body).not.toContain(HOSTNAME);
  });

  it('keeps a directory inside the page a 403 without a listing or a path, as /assets/ is', async () => {
    for (const target of ['/assets/', '/assets/sub/']) {
      const answer = await rawGet(served.baseUrl, target);
      expect(answer.status, target).toBe(403);
      expect(answer.raw).not.toContain(base);
      expect(answer.body).not.toContain('real.js');
    }
  });

  it('refuses an index.html that leads outside its page', async () => {
    const other = await servePage(join(base, 'page2'));
    try {
      const index = await rawGet(other.baseUrl, '/');
      expect(index.status).toBe(404);
      expect(index.raw).not.toContain(SECRET);
      expect((await rawGet(other.baseUrl, '/assets/app.js')).status).toBe(200);
    } finally {
      await other.app.close();
    }
  });

  it('serves a page whose folder is itself a symlink (a `current → release` deployment), with the same rules', async () => {
    const linked = await servePage(join(base, 'current'));
    try {
      expect((await rawGet(linked.baseUrl, '/')).body).toContain('fixture page');
      expect((await rawGet(linked.baseUrl, '/assets/app.js')).body).toBe('app-js');
      expect((await rawGet(linked.baseUrl, '/assets/alias.js')).body).toBe('app-js');
      for (const target of ['/assets/out.txt', '/assets/visible.js', '/assets/.hidden.js', '/assets/env.txt', '/assets/outdir/leak.js']) {
        expect((await rawGet(linked.baseUrl, target)).status, target).toBe(404);
      }
    } finally {
      await linked.app.close();
    }
  });
});

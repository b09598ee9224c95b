import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyError, FastifyInstance } from 'fastify';
import { insideRoot } from './inside-root.js';
import { PAGE_HEADERS } from './page-headers.js';

export interface InboxPageOptions {
  /** The built page: index.html and assets/. Defaults to the page shipped in @herald/server (dist/inbox). */
  root?: string;
}

/**
 * The page built from apps/inbox by scripts/build-inbox.ts into the server package's own dist/inbox, so that it
 * is in the tarball and found in an installed @herald/server. This file sits in src/http when vitest runs it and
 * in dist/http when `herald start` does: the same depth below the package, so one relative path serves both.
 */
export const DEFAULT_INBOX_ROOT = fileURLToPath(new URL('../../dist/inbox/', import.meta.url));

export const INBOX_MISSING_MESSAGE = 'The inbox page is not built. Run `npm run build` (or `npm run build:inbox`) and reload.\n';

/**
 * The inbox page at `/` and its files under `/assets/`. Only these two paths are claimed, so no API route
 * (/notifications, /publish, /ws/notifications, ...) can be shadowed by a file. The page and its assets are
 * revalidated on every load (ETag), since their names do not change between builds.
 *
 * Only the page's own files are served: no dotfile (`.env`, `.git/`), nothing a symlink leads to outside the
 * folder, and every such request answers the same 404 as a missing file, so a probe learns nothing.
 */
export async function inboxPage(app: FastifyInstance, options: InboxPageOptions): Promise<void> {
  const root = options.root ?? DEFAULT_INBOX_ROOT;
  const indexFile = join(root, 'index.html');
  // This plugin's scope holds only the page's two routes, so the hook reaches `/`, every asset, and the 404 an
  // asset route calls (Fastify runs the calling route's onSend hooks on it), and no API route.
  app.addHook('onSend', (_request, reply, payload, done) => {
    void reply.headers(PAGE_HEADERS);
    done(null, payload);
  });
  app.setErrorHandler((error: FastifyError, _request, reply) => {
    // @fastify/static refuses non-canonical paths (`//`, `/./`, `\`, an inner `..`, a differently cased alias)
    // with 403: answered as not found instead, like every other path that is not a page file.
    if (error.code === 'FST_STATIC_FORBIDDEN_PATH') {
      reply.callNotFound();
      return;
    }
    // Thrown on to the enclosing scope's handler (Herald's error shape).
    throw error;
  });
  await app.register(fastifyStatic, {
    root: join(root, 'assets'),
    prefix: '/assets/',
    index: false,
    // @fastify/static's default is 'allow'. 'ignore' answers any path with a dot-segment as missing (404).
    dotfiles: 'ignore',
    // Also consulted by reply.sendFile() for index.html, against the page folder.
    allowedPath: insideRoot,
    // A missing bundle is reported at `/`, where a person will look, not as a warning at boot.
    suppressWarning: true,
  });
  app.get('/', { schema: { hide: true } }, async (_request, reply) => {
    // Looked up per request: a bundle built after the server started is served without a restart.
    if (!existsSync(indexFile)) return reply.code(404).type('text/plain; charset=utf-8').send(INBOX_MISSING_MESSAGE);
    return reply.sendFile('index.html', root);
  });
}

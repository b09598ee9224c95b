import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export interface InboxPageOptions {
  /** The built page: index.html and assets/. Defaults to apps/inbox/dist in this repository. */
  root?: string;
}

/**
 * This file sits in packages/server/src/http when vitest runs it and in packages/server/dist/http when
 * `npm start` does: the same depth, so one relative path finds the bundle from both.
 */
export const DEFAULT_INBOX_ROOT = fileURLToPath(new URL('../../../../apps/inbox/dist/', import.meta.url));

export const INBOX_MISSING_MESSAGE = 'The inbox page is not built. Run `npm run build` (or `npm run build:inbox`) and reload.\n';

/**
 * The inbox page at `/` and its files under `/assets/`. Only these two paths are claimed, so no API route
 * (/notifications, /publish, /ws/notifications, ...) can be shadowed by a file. The page and its assets are
 * revalidated on every load (ETag), since their names do not change between builds.
 */
export async function inboxPage(app: FastifyInstance, options: InboxPageOptions): Promise<void> {
  const root = options.root ?? DEFAULT_INBOX_ROOT;
  const indexFile = join(root, 'index.html');
  await app.register(fastifyStatic, {
    root: join(root, 'assets'),
    prefix: '/assets/',
    index: false,
    // A missing bundle is reported at `/`, where a person will look, not as a warning at boot.
    suppressWarning: true,
  });
  app.get('/', { schema: { hide: true } }, async (_request, reply) => {
    // Looked up per request: a bundle built after the server started is served without a restart.
    if (!existsSync(indexFile)) return reply.code(404).type('text/plain; charset=utf-8').send(INBOX_MISSING_MESSAGE);
    return reply.sendFile('index.html', root);
  });
}

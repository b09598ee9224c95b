import { realpathSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';

/**
 * Whether the file a request names, once every symlink is resolved, is still a file of the folder being served,
 * and not a dotfile there. @fastify/send follows symlinks (it stats and opens the joined path) and checks
 * dotfiles on the requested path only, so `assets/x.js → /etc/passwd`, a symlinked directory pointing outside,
 * or `assets/x.js → .env` would otherwise be served. A symlink from one served file to another is served.
 *
 * `pathName` is the canonical path @fastify/static hands its `allowedPath` option (`/inbox.js`, `index.html`).
 * Anything that cannot be resolved (missing, a dangling link, a NUL, a name too long) is refused: the caller
 * answers 404, as it would for a missing file.
 *
 * Synchronous because allowedPath is: two realpath calls per page file, and the page is a handful of files a tab
 * revalidates once per load. Both sides are resolved per request, so a root that is itself a symlink (a
 * `current → releases/…` deployment) can be switched while Herald runs. The folder is trusted not to be changed
 * by an attacker between this check and the open that follows, as @fastify/static itself assumes.
 */
export function insideRoot(pathName: string, root: string | undefined): boolean {
  if (root === undefined) return false;
  let inside: string;
  try {
    inside = relative(realpathSync.native(root), realpathSync.native(join(root, pathName)));
  } catch {
    return false;
  }
  if (inside === '') return true;
  if (isAbsolute(inside)) return false;
  // One test for both: a path out of the root starts with a `..` segment, a dotfile or dot-folder with a dot.
  return inside.split(sep).every((segment) => !segment.startsWith('.'));
}

import { fail, ok, type Result } from '../result.js';

/** Which store a database URL names: PostgreSQL (the URL as pg reads it) or a SQLite file. */
export type DatabaseTarget = { readonly kind: 'postgres'; readonly url: string } | { readonly kind: 'sqlite'; readonly path: string };

const EXPECTED = 'expected postgres://user:password@host:5432/database (or postgresql://), sqlite:<path>, file:<path> or a file path';

/**
 * Reads a database URL: `postgres://` or `postgresql://` is PostgreSQL; `sqlite:` or `file:` (with or without
 * `//`) before a path, or a path alone, is a SQLite file. Any other scheme is refused rather than taken for a
 * relative path (`mysql://db/app` would be a SQLite file in a folder named `mysql:`). A Windows drive (`C:\…`)
 * is a path. The refusal quotes the scheme only: the rest of a URL may hold a password.
 */
export function parseDatabaseUrl(url: string): Result<DatabaseTarget> {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1];
  if (scheme === undefined || /^[A-Za-z]:[\\/]/.test(url)) return ok({ kind: 'sqlite', path: url });
  switch (scheme.toLowerCase()) {
    case 'postgres':
    case 'postgresql':
      if (!url.slice(scheme.length + 1).startsWith('//')) return fail(`has the scheme "${scheme}:" without "//"; ${EXPECTED}`);
      return ok({ kind: 'postgres', url });
    case 'sqlite':
    case 'file': {
      const path = url.slice(scheme.length + 1).replace(/^\/\//, '');
      if (path === '') return fail(`names no file after "${scheme}:"; ${EXPECTED}`);
      return ok({ kind: 'sqlite', path });
    }
    default:
      return fail(`has the scheme "${scheme}:", which Herald does not store to; ${EXPECTED}`);
  }
}

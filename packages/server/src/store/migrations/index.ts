import type { Migration, MigrationProvider } from 'kysely/migration';
import * as inbox from './0001-inbox.js';
import * as seqBigint from './0002-seq-bigint.js';
import * as inboxV2 from './0003-inbox-v2.js';

/**
 * Every migration, listed by hand rather than found by a folder scan, so that the same list runs from dist/,
 * from tsx and from vitest. Names sort in the order they apply; never rename or edit one that has shipped.
 */
const migrations: Record<string, Migration> = {
  '0001-inbox': inbox,
  '0002-seq-bigint': seqBigint,
  '0003-inbox-v2': inboxV2,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};

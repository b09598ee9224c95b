import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqlite } from '../../src/store/open-sqlite.js';

describe('openSqlite', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['full', 2],
    ['normal', 1],
  ] as const)('opens a WAL database with synchronous = %s, foreign keys on, rare checkpoints, creating its folder', (synchronous, level) => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-open-sqlite-'));
    dirs.push(dir);
    const db = openSqlite(join(dir, 'nested', 'herald.db'), synchronous);
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(level);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(10_000);
    } finally {
      db.close();
    }
  });
});

import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { withStatementCache } from '../../src/store/statement-cache.js';

describe('the SQLite statement cache', () => {
  it('hands back the same prepared statement for the same SQL, and statements stay usable again and again', () => {
    const db = new BetterSqlite3(':memory:');
    const cached = withStatementCache(db, 10);
    cached.prepare('CREATE TABLE t (n INTEGER)').run([]);
    const insert = cached.prepare('INSERT INTO t (n) VALUES (?)');
    expect(cached.prepare('INSERT INTO t (n) VALUES (?)')).toBe(insert);
    for (let n = 1; n <= 3; n++) cached.prepare('INSERT INTO t (n) VALUES (?)').run([n]);
    const select = cached.prepare('SELECT n FROM t ORDER BY n');
    expect(select.all([])).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(cached.prepare('SELECT n FROM t ORDER BY n').all([])).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    cached.close();
  });

  it('keeps at most `max` texts, dropping the least recently used', () => {
    const db = new BetterSqlite3(':memory:');
    const cached = withStatementCache(db, 2);
    const one = cached.prepare('SELECT 1');
    const two = cached.prepare('SELECT 2');
    expect(cached.prepare('SELECT 1')).toBe(one);
    cached.prepare('SELECT 3');
    expect(cached.prepare('SELECT 1')).toBe(one);
    expect(cached.prepare('SELECT 2')).not.toBe(two);
    cached.close();
  });
});

import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * better-sqlite3 behind Kysely with its prepared statements kept: Kysely asks for `prepare(sql)` on every query,
 * and preparing was a tenth of Herald's busy time in a connect storm (a head-seq read per connection) and a few
 * percent of fan-out. The same SQL text gets the same statement back. Safe because better-sqlite3 runs each
 * statement to completion synchronously and Herald never streams rows (`iterate`) from SQLite, so a statement is
 * never in use when it is handed out again. Bounded: past `max` texts the oldest is dropped (markRead has a text
 * per number of ids it is given, up to its IN-list chunk).
 */
export function withStatementCache(database: SqliteDatabase, max: number): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => {
      statements.clear();
      database.close();
    },
    prepare: (sql) => {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = database.prepare(sql);
        if (statements.size >= max) statements.delete(statements.keys().next().value!);
      } else {
        // Re-inserted so that the map's order is least recently used first.
        statements.delete(sql);
      }
      statements.set(sql, statement);
      return statement;
    },
  };
}

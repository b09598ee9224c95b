import pg from 'pg';

/**
 * A client for reading a test's PostgreSQL database directly, with int8 read as a number as Herald's own pool reads
 * it (seqs are bigint since migration 0002), so rows compare equal to what the API answered.
 */
export function pgClient(connectionString: string): pg.Client {
  return new pg.Client({
    connectionString,
    types: {
      getTypeParser: (oid, format) => (oid === pg.types.builtins.INT8 && format !== 'binary' ? Number : pg.types.getTypeParser(oid, format)),
    },
  });
}

import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A PostgreSQL server URL for this run (its `postgres` database); see setup/postgres.ts. */
    postgresUrl: string;
  }
}

import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A PostgreSQL server URL for this run (its `postgres` database); see setup/postgres.ts. */
    postgresUrl: string;
    /** host:port of a Kafka broker for this run; see setup/kafka.ts. */
    kafkaBrokers: string;
    /** A Redis server URL for this run; see setup/redis.ts. */
    redisUrl: string;
  }
}

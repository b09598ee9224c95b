import { afterAll, beforeAll } from 'vitest';
import { guardOutages } from '../../src/store/outage-guard.js';
import { startGateway, type TestGateway } from './gateway.js';
import { startStoppablePostgres, type StoppablePostgres } from './stoppable-postgres.js';

/**
 * For a describe block about outages: a gateway whose store is guarded as Herald's own is, on a PostgreSQL server
 * the tests may stop and start; both made before the block's tests and removed after them.
 */
export function gatewayOnStoppablePostgres(): { readonly postgres: StoppablePostgres; readonly gateway: TestGateway } {
  let postgres: StoppablePostgres | undefined;
  let gateway: TestGateway | undefined;
  beforeAll(async () => {
    postgres = await startStoppablePostgres();
    gateway = await startGateway('postgres', { databaseUrl: postgres.url, wrapStore: guardOutages });
  });
  afterAll(async () => {
    await gateway?.close();
    await postgres?.remove();
  });
  return {
    get postgres() {
      if (!postgres) throw new Error('PostgreSQL is not started yet (use it inside a test)');
      return postgres;
    },
    get gateway() {
      if (!gateway) throw new Error('the gateway is not started yet (use it inside a test)');
      return gateway;
    },
  };
}

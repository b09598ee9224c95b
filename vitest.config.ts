import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: {
      '@herald/protocol': fileURLToPath(new URL('./packages/protocol/src/index.ts', import.meta.url)),
      '@herald/client': fileURLToPath(new URL('./packages/client/src/index.ts', import.meta.url)),
      '@herald/react': fileURLToPath(new URL('./packages/react/src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    globalSetup: ['packages/server/test/setup/postgres.ts', 'packages/server/test/setup/kafka.ts', 'packages/server/test/setup/redis.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
});

// Run by cluster-startup.test.ts in a process of its own: starts a cluster against the Redis URL it is given and
// prints the outcome as one JSON line. It never calls process.exit: the test checks that it ends by itself, i.e.
// that a failed start leaves nothing (socket, timer) that keeps Node alive.
import { startCluster } from '../../src/cluster/start-cluster.js';
import { StartupError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { Metrics } from '../../src/metrics.js';

const redisUrl = process.argv[2] ?? '';
const metrics = new Metrics({ connections: () => 0, users: () => 0 });
try {
  const cluster = await startCluster(
    { redisUrl, keyPrefix: 'startup-test:', nodeId: 'startup-test', presenceTtlMs: 15_000 },
    { metrics, logger: createLogger('silent') },
  );
  console.log(JSON.stringify({ started: true }));
  await cluster.presence.close();
  await cluster.close();
} catch (error) {
  const { name, message } = error as Error;
  console.log(JSON.stringify({ started: false, startupError: error instanceof StartupError, name, message }));
}

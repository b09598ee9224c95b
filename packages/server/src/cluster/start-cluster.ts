import type { Logger } from 'pino';
import { RedisBroker } from '../broker/redis-broker.js';
import type { ClusterConfig } from '../config.js';
import type { Metrics } from '../metrics.js';
import { RedisLink } from './redis-link.js';
import { RedisPresence } from './redis-presence.js';

/** What cluster mode adds to a node: the link to Redis, the broker over it and cluster-wide presence. */
export interface Cluster {
  link: RedisLink;
  broker: RedisBroker;
  presence: RedisPresence;
  /** After the broker and presence are closed: ends both Redis connections. */
  close(): Promise<void>;
}

/** Connects to Redis and joins presence; rejects, naming HERALD_REDIS_URL, when Redis does not answer. */
export async function startCluster(config: ClusterConfig, deps: { metrics: Metrics; logger: Logger }): Promise<Cluster> {
  const logger = deps.logger.child({ node: config.nodeId });
  const link = new RedisLink(config.redisUrl, logger);
  await link.connect();
  const shared = { link, keyPrefix: config.keyPrefix, nodeId: config.nodeId, logger };
  const broker = new RedisBroker({ ...shared, metrics: deps.metrics });
  const presence = new RedisPresence({ ...shared, ttlMs: config.presenceTtlMs });
  try {
    await presence.start();
  } catch (error) {
    await link.close();
    throw new Error(`HERALD_REDIS_URL: joining the cluster's presence failed (${(error as Error).message})`, { cause: error });
  }
  logger.info({ redis: safeUrl(config.redisUrl) }, 'cluster mode: routing events between nodes through Redis');
  return { link, broker, presence, close: () => link.close() };
}

/** The Redis URL without its password, for logs. */
function safeUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

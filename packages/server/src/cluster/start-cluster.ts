import type { Logger } from 'pino';
import type { ClusterConfig } from '../config.js';
import { StartupError } from '../errors.js';
import { redactSecretsInText } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { RedisBroker } from './redis-broker.js';
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

/**
 * Connects to Redis and joins presence. When Redis does not answer, refuses the credentials or fails the first
 * presence write, rejects with a StartupError naming HERALD_REDIS_URL, having closed both connections; the
 * presence heartbeat only starts once everything else has worked, so no timer is left either.
 */
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
    const reason = redactSecretsInText(error instanceof Error ? error.message : String(error));
    throw new StartupError(`HERALD_REDIS_URL: joining the cluster's presence failed (${reason})`, { cause: error });
  }
  logger.info({ redis: redactSecretsInText(config.redisUrl) }, 'cluster mode: routing events between nodes through Redis');
  return { link, broker, presence, close: () => link.close() };
}

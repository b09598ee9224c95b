import type { KafkaConfig } from '../config.js';

/**
 * What every Kafka client Herald opens (the consumer, the dead-letter producer, the admin that checks topics)
 * is given to reach the cluster: the bootstrap brokers, and the security settings when the cluster asks for them.
 * One place, so that no client can connect with less than the others.
 */
export interface KafkaConnection {
  bootstrapBrokers: string[];
}

export function kafkaConnection(config: KafkaConfig): KafkaConnection {
  return { bootstrapBrokers: config.brokers };
}

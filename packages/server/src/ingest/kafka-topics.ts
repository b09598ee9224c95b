import { Admin } from '@platformatic/kafka';
import type { KafkaConfig } from '../config.js';
import type { KafkaConnection } from './kafka-connection.js';

/** What the cluster says about the topic Herald consumes and its dead-letter twin. */
export interface TopicsSeen {
  /** The topic's partition count and replication factor; absent when it does not exist. */
  topic?: { partitions: number; replicas: number };
  deadLetterExists: boolean;
}

/**
 * Looks at and makes the two topics, with an admin client of its own that lives only while it is needed (the
 * start-up check, and waiting for a topic that does not exist yet).
 */
export class KafkaTopics {
  private admin: Admin | undefined;

  constructor(
    private readonly config: KafkaConfig,
    private readonly connection: KafkaConnection,
    private readonly clientId: string,
  ) {}

  async inspect(): Promise<TopicsSeen> {
    const [topic, deadLetter] = await Promise.all([this.describe(this.config.topic), this.describe(this.config.deadLetterTopic)]);
    return { ...(topic && { topic }), deadLetterExists: deadLetter !== undefined };
  }

  /**
   * Creates the dead-letter topic with the topic's partitions and replication. Another node may create it at the
   * same moment: a failed create is fine when the topic exists afterwards.
   */
  async createDeadLetter(like: { partitions: number; replicas: number }): Promise<void> {
    try {
      await this.client().createTopics({ topics: [this.config.deadLetterTopic], partitions: like.partitions, replicas: like.replicas });
    } catch (error) {
      if ((await this.describe(this.config.deadLetterTopic)) === undefined) throw error;
    }
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.close();
  }

  /** A topic's shape, or undefined when the cluster does not know it. */
  private async describe(name: string): Promise<{ partitions: number; replicas: number } | undefined> {
    try {
      const metadata = await this.client().metadata({ topics: [name], autocreateTopics: false, forceUpdate: true });
      const topic = metadata.topics.get(name);
      if (!topic) return undefined;
      return { partitions: topic.partitionsCount, replicas: Math.max(1, topic.partitions[0]?.replicas.length ?? 1) };
    } catch (error) {
      if (isUnknownTopic(error)) return undefined;
      throw error;
    }
  }

  private client(): Admin {
    // No retries of its own: the caller decides what a failure means (a start-up error, or waiting).
    this.admin ??= new Admin({ clientId: `${this.clientId}-admin`, ...this.connection, retries: 0 });
    return this.admin;
  }
}

/** The client reports a topic missing from the metadata as a user error "Unknown topic <name>." */
function isUnknownTopic(error: unknown): boolean {
  return error instanceof Error && /^Unknown topic /.test(error.message);
}

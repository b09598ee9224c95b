import type { Logger } from 'pino';
import type { BroadcastMessage, Broker, BrokerHandlers } from '../broker/broker.js';
import type { Metrics } from '../metrics.js';
import { settleWithin } from '../timing.js';
import type { StoredEvent } from '../store/store.js';
import type { RedisLink } from './redis-link.js';
import { decodeBrokerMessage, encodeBrokerMessage, type BrokerMessage } from './wire.js';
import { WireDrops } from './wire-drops.js';

export interface RedisBrokerOptions {
  link: RedisLink;
  /** Put before every channel name (HERALD_REDIS_KEY_PREFIX). */
  keyPrefix: string;
  nodeId: string;
  metrics: Metrics;
  logger: Logger;
}

/** A subscribe that Redis has not confirmed by then is not waited for: the connection opens, gap detection covers it. */
const SUBSCRIBE_WAIT_MS = 2_000;
/** Users whose newest event could not be published, kept to publish again when Redis is back; the oldest go first. */
const MAX_UNSENT = 100_000;

/**
 * The cluster broker, over Redis pub/sub. Each user has a channel; a node subscribes to it while it holds a
 * connection of that user, so Redis carries an event once to each node that holds the user and to no other. Each
 * event is serialised once, whatever the number of nodes.
 *
 * Classic SUBSCRIBE, not sharded SSUBSCRIBE: node-redis 6.3 re-sends sharded subscriptions one command per
 * channel after a reconnect, and against a restarted Redis only part of them took (368 of 500 in a test) and the
 * client never became ready again, so those users' events silently stopped reaching the node. Classic channels
 * are resubscribed in one command and reach only the subscribed nodes all the same.
 *
 * The node that stored an event hands it to its own connections first, without a round trip through Redis, so
 * local delivery goes on while Redis is down; its own copy coming back from Redis is ignored.
 *
 * What Redis loses, the store still has. When the subscriber connection comes back, every connection of this
 * node re-reads the store after its last seq (`resync`); when the command connection comes back, the newest
 * event of each user that could not be published is published again, so that nodes whose own link never broke
 * see the gap it leaves and catch up too. A publish that failed may still have reached Redis, so that second
 * publish can be a duplicate: hence the broker's guarantee of zero or more deliveries, which receivers sort out
 * by seq.
 *
 * A message from another node is decoded and checked field by field (./wire.ts); one that fails is dropped
 * (./wire-drops.ts) and the next is handled as usual.
 */
export class RedisBroker implements Broker {
  private handlers: BrokerHandlers | undefined;
  /** The users this node holds: the channels it wants, whatever Redis currently knows. */
  private readonly users = new Set<string>();
  private readonly unsent = new Map<string, StoredEvent>();
  private readonly userChannelPrefix: string;
  private readonly broadcastChannel: string;
  private readonly drops: WireDrops;

  constructor(private readonly options: RedisBrokerOptions) {
    this.userChannelPrefix = `${options.keyPrefix}user:`;
    this.broadcastChannel = `${options.keyPrefix}broadcast`;
    this.drops = new WireDrops(options.logger, 'broker');
  }

  async connect(handlers: BrokerHandlers): Promise<void> {
    this.handlers = handlers;
    const { subscriber, commands } = this.options.link;
    await subscriber.subscribe(this.broadcastChannel, this.onMessage);
    // 'ready' fires on every reconnect, after node-redis has subscribed its known channels again.
    subscriber.on('ready', () => void this.recover());
    commands.on('ready', () => this.publishUnsent());
  }

  publish(event: StoredEvent): void {
    this.handlers?.event(event);
    this.sendEvent(event);
  }

  broadcast(message: BroadcastMessage): void {
    this.handlers?.broadcast(message);
    // A broadcast is not stored: a node that misses it while Redis is down does not get it later.
    this.send(this.broadcastChannel, { kind: 'broadcast', node: this.options.nodeId, broadcast: message });
  }

  erase(userId: string): void {
    this.handlers?.erased(userId);
    // Not kept for later like an event: a node that misses it while Redis is down keeps the user's tabs open,
    // and they find an empty stream (a reset) when they next resume.
    this.send(this.channelOf(userId), { kind: 'erased', node: this.options.nodeId, user: userId });
  }

  subscribe(userId: string): Promise<void> {
    this.users.add(userId);
    const { subscriber } = this.options.link;
    if (!subscriber.isReady) return Promise.resolve();
    const channel = this.channelOf(userId);
    const subscribed = subscriber.subscribe(channel, this.onMessage).then(
      () => {
        // The last tab may have closed while Redis confirmed: the unsubscribe then found nothing to remove.
        if (!this.users.has(userId)) this.dropChannel(channel);
      },
      (error: unknown) => this.options.logger.debug({ err: error, user: userId }, 'subscribing to a user failed'),
    );
    return settleWithin(subscribed, SUBSCRIBE_WAIT_MS);
  }

  unsubscribe(userId: string): void {
    this.users.delete(userId);
    if (this.options.link.subscriber.isReady) this.dropChannel(this.channelOf(userId));
  }

  async close(): Promise<void> {
    this.handlers = undefined;
    this.users.clear();
    this.unsent.clear();
  }

  private channelOf(userId: string): string {
    return this.userChannelPrefix + userId;
  }

  private sendEvent(event: StoredEvent): void {
    this.send(this.channelOf(event.userId), { kind: 'event', node: this.options.nodeId, event }, event);
  }

  private send(channel: string, message: BrokerMessage, event?: StoredEvent): void {
    const { commands } = this.options.link;
    const retryLater = (): void => {
      this.options.metrics.redisPublishFailures.inc();
      if (event) this.keepUnsent(event);
    };
    if (!commands.isReady) return retryLater();
    commands.publish(channel, encodeBrokerMessage(message)).then(
      () => this.options.metrics.redisMessages.inc({ direction: 'published' }),
      // Sent or not, the store has it: publishing it again is at worst a duplicate that receivers drop by seq.
      retryLater,
    );
  }

  private keepUnsent(event: StoredEvent): void {
    const kept = this.unsent.get(event.userId);
    if (kept && kept.seq >= event.seq) return;
    this.unsent.delete(event.userId);
    this.unsent.set(event.userId, event);
    if (this.unsent.size > MAX_UNSENT) this.unsent.delete(this.unsent.keys().next().value!);
  }

  private publishUnsent(): void {
    const events = [...this.unsent.values()];
    this.unsent.clear();
    for (const event of events) this.sendEvent(event);
  }

  /** Runs inside node-redis's reply parser: nothing may throw out of it, whatever the message or the handler does. */
  private readonly onMessage = (text: string, channel: string): void => {
    this.options.metrics.redisMessages.inc({ direction: 'received' });
    const decoded = decodeBrokerMessage(text);
    if (!decoded.ok) return this.drops.drop(decoded.error.reason, decoded.error.detail, channel);
    const message = decoded.value;
    if (message.node === this.options.nodeId) return;
    const expected =
      message.kind === 'event'
        ? this.channelOf(message.event.userId)
        : message.kind === 'erased'
          ? this.channelOf(message.user)
          : this.broadcastChannel;
    if (channel !== expected) return this.drops.drop('wrong channel', `a ${message.kind} message on another channel`, channel);
    try {
      if (message.kind === 'event') this.handlers?.event(message.event);
      else if (message.kind === 'erased') this.handlers?.erased(message.user);
      else this.handlers?.broadcast(message.broadcast);
    } catch (error) {
      this.options.logger.warn({ err: error, channel }, 'handling a message from another node failed');
    }
  };

  /**
   * After the subscriber reconnected: subscribe to the users that arrived while it was down, drop the channels of
   * users that left meanwhile, and only then ask every connection to re-read the store, so that an event stored
   * after that read is sure to come through Redis.
   */
  private async recover(): Promise<void> {
    const { subscriber } = this.options.link;
    const subscribed = subscriber.getPubSubListeners('CHANNELS');
    const pending: Array<Promise<unknown>> = [];
    for (const userId of this.users) {
      if (!subscribed.has(this.channelOf(userId))) pending.push(subscriber.subscribe(this.channelOf(userId), this.onMessage));
    }
    for (const channel of subscribed.keys()) {
      if (channel.startsWith(this.userChannelPrefix) && !this.users.has(channel.slice(this.userChannelPrefix.length))) {
        this.dropChannel(channel);
      }
    }
    const results = await Promise.allSettled(pending);
    const failed = results.filter((result) => result.status === 'rejected').length;
    if (failed > 0) this.options.logger.warn({ failed }, 'resubscribing users after a Redis reconnect failed; gap detection covers them');
    this.options.metrics.resyncs.inc();
    this.handlers?.resync();
  }

  private dropChannel(channel: string): void {
    this.options.link.subscriber.unsubscribe(channel, this.onMessage).catch(() => {
      // Reconnecting: recover() drops channels of users this node no longer holds.
    });
  }
}

import type { Logger } from 'pino';
import { MemoryPresence } from './memory-presence.js';
import type { Presence } from './presence.js';
import type { RedisLink } from './redis-link.js';
import { decodePresenceMessage, encodePresenceMessage, type PresenceMessage } from './wire.js';
import { WireDrops } from './wire-drops.js';

export interface RedisPresenceOptions {
  link: RedisLink;
  keyPrefix: string;
  nodeId: string;
  /** A node that stops heartbeating drops out after this; it heartbeats three times per TTL. */
  ttlMs: number;
  logger: Logger;
}

/** The field that says a node's hash is whole; a hash without it expired or was lost, and is written anew. */
const MARKER = '\u0000node';

const LEAVE = `local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return n`;

const HEARTBEAT = `if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

/**
 * Cluster presence in Redis. Each node owns one hash, `<prefix>presence:node:<id>`, of user → open connections
 * on that node, with a TTL that its heartbeat renews; a set `<prefix>presence:nodes` lists the nodes. A node
 * that dies stops renewing, its hash expires, and the next reader prunes it from the set: no other node has to
 * notice the death. This node's own counts live in memory and are the truth: the hash is written whole from
 * them whenever it may have diverged (after a reconnect, a failed command, or an expiry).
 *
 * The view of other nodes that `isConnected` reads is their hashes as of the last heartbeat, kept current in
 * between by the news each node publishes when a user's first tab opens or last tab closes there.
 */
export class RedisPresence implements Presence {
  private readonly local = new MemoryPresence();
  private remote = new Map<string, Set<string>>();
  private lastRefreshAt = Date.now();
  /** The hash may not match the local counts: write it whole at the next heartbeat. */
  private dirty = true;
  private beating = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly nodeKey: string;
  private readonly nodesKey: string;
  private readonly channel: string;
  private readonly drops: WireDrops;

  constructor(private readonly options: RedisPresenceOptions) {
    this.nodeKey = this.keyOf(options.nodeId);
    this.nodesKey = `${options.keyPrefix}presence:nodes`;
    this.channel = `${options.keyPrefix}presence`;
    this.drops = new WireDrops(options.logger, 'presence');
  }

  async start(): Promise<void> {
    const { commands, subscriber } = this.options.link;
    await this.writeSnapshot();
    await subscriber.subscribe(this.channel, this.onNews);
    await this.refresh();
    commands.on('ready', () => {
      this.dirty = true;
      void this.heartbeat();
    });
    this.timer = setInterval(() => void this.heartbeat(), Math.max(100, Math.floor(this.options.ttlMs / 3)));
    this.timer.unref();
  }

  async join(userId: string): Promise<number> {
    const here = this.local.add(userId);
    if (here === 1) this.announce({ kind: 'online', node: this.options.nodeId, user: userId });
    const { commands } = this.options.link;
    // While Redis is away only this node's count is known: availability wins over a limit that cannot be checked.
    if (!commands.isReady) return this.markDirty(here);
    try {
      // Counted first, then read: of two nodes admitting the same user at once, the later read sees both.
      const [, members] = await commands.multi().hIncrBy(this.nodeKey, userId, 1).sMembers(this.nodesKey).execAsPipelineTyped();
      const others = members.filter((node) => node !== this.options.nodeId);
      if (others.length === 0) return here;
      const pipeline = commands.multi();
      for (const node of others) pipeline.hGet(this.keyOf(node), userId);
      // Built in a loop, so node-redis cannot type the replies: each is an HGET's.
      const counts = (await pipeline.execAsPipeline()) as unknown as Array<string | null>;
      return counts.reduce((sum, count) => sum + Number(count ?? 0), here);
    } catch (error) {
      this.options.logger.debug({ err: error }, 'presence join failed; counting this node only');
      return this.markDirty(here);
    }
  }

  leave(userId: string): void {
    const here = this.local.remove(userId);
    if (here === 0) this.announce({ kind: 'offline', node: this.options.nodeId, user: userId });
    const { commands } = this.options.link;
    if (!commands.isReady) {
      this.dirty = true;
      return;
    }
    commands.eval(LEAVE, { keys: [this.nodeKey], arguments: [userId] }).catch(() => (this.dirty = true));
  }

  isConnected(userId: string): boolean {
    if (this.local.isConnected(userId)) return true;
    for (const users of this.remote.values()) if (users.has(userId)) return true;
    return false;
  }

  connectedUsers(): string[] {
    const users = new Set(this.local.connectedUsers());
    for (const remoteUsers of this.remote.values()) for (const user of remoteUsers) users.add(user);
    return [...users];
  }

  /** This node and the others it currently knows of. */
  nodeCount(): number {
    return this.remote.size + 1;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    const { commands } = this.options.link;
    if (commands.isReady) {
      await commands
        .multi()
        .del(this.nodeKey)
        .sRem(this.nodesKey, this.options.nodeId)
        .publish(this.channel, encodePresenceMessage({ kind: 'gone', node: this.options.nodeId }))
        .execAsPipeline()
        .catch(() => {
          // Not removed: the hash expires after the TTL like a dead node's.
        });
    }
    await this.local.close();
  }

  private keyOf(nodeId: string): string {
    return `${this.options.keyPrefix}presence:node:${nodeId}`;
  }

  private markDirty(count: number): number {
    this.dirty = true;
    return count;
  }

  /** Renews this node's TTL (rewriting its hash when it may be off) and reads the other nodes' hashes again. */
  private async heartbeat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      if (!this.options.link.commands.isReady) {
        this.dirty = true;
      } else {
        await this.renew();
        await this.refresh();
      }
    } catch (error) {
      this.dirty = true;
      this.options.logger.debug({ err: error }, 'presence heartbeat failed');
    } finally {
      this.beating = false;
    }
    // A view that could not be refreshed for a whole TTL may hold dead nodes: forget it rather than report them.
    if (Date.now() - this.lastRefreshAt > this.options.ttlMs) this.remote = new Map();
  }

  private async renew(): Promise<void> {
    if (!this.dirty) {
      const [alive] = await this.options.link.commands
        .multi()
        .eval(HEARTBEAT, { keys: [this.nodeKey], arguments: [MARKER, String(this.options.ttlMs)] })
        .sAdd(this.nodesKey, this.options.nodeId)
        .execAsPipeline();
      if (Number(alive) === 1) return;
    }
    await this.writeSnapshot();
  }

  /** Replaces this node's hash with the local counts, in one transaction. */
  private async writeSnapshot(): Promise<void> {
    // Cleared before sending: a join or leave that fails while the snapshot is in flight marks it again.
    this.dirty = false;
    const fields: Record<string, string> = { [MARKER]: '1' };
    for (const [user, count] of this.local.entries()) fields[user] = String(count);
    try {
      await this.options.link.commands
        .multi()
        .del(this.nodeKey)
        .hSet(this.nodeKey, fields)
        .pExpire(this.nodeKey, this.options.ttlMs)
        .sAdd(this.nodesKey, this.options.nodeId)
        .exec();
    } catch (error) {
      this.dirty = true;
      throw error;
    }
  }

  /** Reads every other live node's users; prunes from the set the nodes whose hash has expired. */
  private async refresh(): Promise<void> {
    const { commands } = this.options.link;
    const members = await commands.sMembers(this.nodesKey);
    const others = members.filter((node) => node !== this.options.nodeId);
    const view = new Map<string, Set<string>>();
    if (others.length > 0) {
      const pipeline = commands.multi();
      for (const node of others) pipeline.hKeys(this.keyOf(node));
      const replies = (await pipeline.execAsPipeline()) as unknown as string[][];
      const dead: string[] = [];
      others.forEach((node, index) => {
        const fields = replies[index] ?? [];
        if (fields.length === 0) dead.push(node);
        else view.set(node, new Set(fields.filter((field) => field !== MARKER)));
      });
      if (dead.length > 0) await commands.sRem(this.nodesKey, dead);
    }
    this.remote = view;
    this.lastRefreshAt = Date.now();
  }

  private announce(news: PresenceMessage): void {
    const { commands } = this.options.link;
    if (!commands.isReady) return;
    commands.publish(this.channel, encodePresenceMessage(news)).catch(() => {
      // The other nodes read this node's hash again at their next heartbeat.
    });
  }

  /** Runs inside node-redis's reply parser: a malformed message is dropped, never thrown. */
  private readonly onNews = (text: string, channel: string): void => {
    const decoded = decodePresenceMessage(text);
    if (!decoded.ok) return this.drops.drop(decoded.error.reason, decoded.error.detail, channel);
    const news = decoded.value;
    if (news.node === this.options.nodeId) return;
    if (news.kind === 'gone') {
      this.remote.delete(news.node);
      return;
    }
    let users = this.remote.get(news.node);
    if (!users) this.remote.set(news.node, (users = new Set()));
    if (news.kind === 'online') users.add(news.user);
    else users.delete(news.user);
  };
}

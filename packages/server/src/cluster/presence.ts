/**
 * Who is connected, across every node of the cluster.
 *
 * Guarantees: `join` counts the connection before it resolves, and its result includes every connection of the
 * user, on any node, whose own `join` had counted it and that has not left; so when two nodes admit a user's
 * last free slot at the same moment, at least one of them sees the other and refuses, and the limit is never
 * passed. A node that stops without leaving (kill -9, a lost machine) drops out within the presence TTL.
 * `isConnected` and `connectedUsers` answer from this node's view without a round trip: exact for this node's
 * own connections, and for other nodes behind by the time their news takes to arrive (at most a heartbeat).
 */
export interface Presence {
  /**
   * Counts one more connection of the user on this node; resolves with the user's connections on every node. Never
   * rejects: while the cluster cannot be asked it answers from what this node knows.
   */
  join(userId: string): Promise<number>;
  /** Counts one connection of the user on this node less. */
  leave(userId: string): void;
  isConnected(userId: string): boolean;
  connectedUsers(): string[];
  /** Takes this node out of presence at once (a node that dies instead drops out after the TTL). */
  close(): Promise<void>;
}

import type { StoredEvent } from '../store/store.js';

/** A frame for every connected user, not stored and without seq. */
export interface BroadcastMessage {
  type: string;
  payload: Record<string, unknown>;
}

export interface BrokerHandlers {
  event(event: StoredEvent): void;
  broadcast(message: BroadcastMessage): void;
  /** Everything stored for the user was erased: close the user's connections on this node. */
  erased(userId: string): void;
  /**
   * Events of this node's users may have been missed (the link between nodes was down and is back): every
   * connection should read the store for what came after its last seq.
   */
  resync(): void;
}

/**
 * Carries stored events from the node that stored them to the nodes that hold the user's connections.
 *
 * Guarantee: each event reaches each node that holds the user zero or more times, in any order. Zero, because a
 * node can miss it (the cluster's pub/sub keeps nothing for a node that is cut off or not yet subscribed, and a
 * publish that failed is retried only for the newest event of each user); more than once, because a publish that
 * failed may have gone through all the same and is sent again; in any order, because events of one user stored
 * by different nodes interleave and a retried one arrives after later ones. Receivers make it exact: an event
 * is published only after it is durable, so a connection drops what it already has by seq, reads a gap from the
 * store, and re-reads the store on `resync` for misses that no later event shows (each Connection's StreamCursor
 * judges by seq, StreamSync reads the store). The publishing node's own connections get the event once, at once,
 * without depending on any other process.
 *
 * A broadcast is not stored: it reaches each node at most once, and a node cut off when it is sent never gets it.
 */
export interface Broker {
  /** Where received events go; set once by the composition root. */
  connect(handlers: BrokerHandlers): Promise<void>;
  publish(event: StoredEvent): void;
  broadcast(message: BroadcastMessage): void;
  /**
   * Tells every node that holds the user (this one too, at once) that the user was erased (BrokerHandlers.erased).
   * At most once per node, like a broadcast: a node cut off then keeps the user's tabs, which find their stream
   * reset when they next resume.
   */
  erase(userId: string): void;
  /**
   * This node now holds a connection of the user. Resolves once events published for the user from then on
   * reach this node, so that a store read started afterwards cannot miss one; while the link between nodes is
   * down it resolves at once, and the resync when the link is back covers the gap.
   */
  subscribe(userId: string): Promise<void>;
  /** This node no longer holds a connection of the user. */
  unsubscribe(userId: string): void;
  close(): Promise<void>;
}

import type { StoredEvent } from '../store/store.js';

/** A frame for every connected user, not stored and without seq. */
export interface BroadcastMessage {
  type: string;
  payload: Record<string, unknown>;
}

export interface BrokerHandlers {
  event(event: StoredEvent): void;
  broadcast(message: BroadcastMessage): void;
  /**
   * Events of this node's users may have been missed (the link between nodes was down and is back): every
   * connection should read the store for what came after its last seq.
   */
  resync(): void;
}

/**
 * Carries stored events from the node that stored them to the nodes that hold the user's connections.
 *
 * Guarantees: at most once per node and no ordering promise; an event is published only after it is durable,
 * so a receiver that sees a gap in seq or misses an event entirely can always read it back from the store. The
 * publishing node's own connections get the event without depending on any other process.
 */
export interface Broker {
  /** Where received events go; set once by the composition root. */
  connect(handlers: BrokerHandlers): Promise<void>;
  publish(event: StoredEvent): void;
  broadcast(message: BroadcastMessage): void;
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

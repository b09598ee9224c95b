import type { StoredEvent } from '../store/store.js';

/** A frame for every connected user, not stored and without seq. */
export interface BroadcastMessage {
  type: string;
  payload: Record<string, unknown>;
}

export interface BrokerHandlers {
  event(event: StoredEvent): void;
  broadcast(message: BroadcastMessage): void;
}

/**
 * Carries stored events from the node that stored them to the nodes that hold the user's connections.
 *
 * Guarantees: at most once per node and no ordering promise; an event is published only after it is durable,
 * so a receiver that sees a gap in seq or misses an event entirely can always read it back from the store.
 */
export interface Broker {
  /** Where received events go; set once by the composition root. */
  connect(handlers: BrokerHandlers): Promise<void>;
  publish(event: StoredEvent): void;
  broadcast(message: BroadcastMessage): void;
  /** This node now holds (or no longer holds) a connection of the user. */
  subscribe(userId: string): void;
  unsubscribe(userId: string): void;
  close(): Promise<void>;
}

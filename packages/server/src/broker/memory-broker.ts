import type { BroadcastMessage, Broker, BrokerHandlers } from './broker.js';
import type { StoredEvent } from '../store/store.js';

/** The single-node broker: hands events straight to this process's hub, in the same tick. */
export class MemoryBroker implements Broker {
  private handlers: BrokerHandlers | undefined;

  async connect(handlers: BrokerHandlers): Promise<void> {
    this.handlers = handlers;
  }

  publish(event: StoredEvent): void {
    this.handlers?.event(event);
  }

  broadcast(message: BroadcastMessage): void {
    this.handlers?.broadcast(message);
  }

  erase(userId: string): void {
    this.handlers?.erased(userId);
  }

  // Every user lives on this one node: there is nothing to route.
  async subscribe(): Promise<void> {}
  unsubscribe(): void {}

  async close(): Promise<void> {
    this.handlers = undefined;
  }
}

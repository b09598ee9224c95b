/** Removes the listener it was returned for; calling it twice is harmless. */
export type Disposer = () => void;

type EventMap = { [event: string]: unknown[] };
// Listeners of different events have different argument lists; each is stored untyped and called typed.
type AnyListener = (...args: unknown[]) => void;

/**
 * A small typed event emitter with no global state. A listener that throws does not stop the others or the
 * client's own bookkeeping: its error is rethrown on a later tick, where the host reports it.
 */
export class Emitter<Events extends EventMap> {
  readonly #listeners = new Map<keyof Events, Set<AnyListener>>();

  on<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): Disposer {
    let set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, (set = new Set()));
    const entry = listener as unknown as AnyListener;
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        listener(...(args as unknown[]));
      } catch (error) {
        setTimeout(() => {
          throw error;
        }, 0);
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}

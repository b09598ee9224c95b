import type { Appender, AppendResults } from './appender.js';
import type { AppendInput } from './store.js';

interface Waiting {
  inputs: readonly AppendInput[];
  resolve(results: AppendResults): void;
  reject(error: unknown): void;
}

/**
 * Group commit: appends that arrive within one turn of the event loop (several publish requests, a Kafka batch
 * beside them) share one transaction, so a burst of small requests pays one commit and one fsync instead of one
 * each. The group is committed in a setImmediate, after the current turn's requests have all been read; while
 * it commits, later arrivals gather for the next. Each caller still gets exactly its own results back, and its
 * batch is still stored all or nothing: when a shared transaction fails, each batch of it is tried again on its
 * own, so one caller's failure is not the others'. An Appender over the Appender that commits (SQLite's).
 */
export class GroupCommit implements Appender {
  #waiting: Waiting[] = [];
  #running = false;

  /** `maxItems` bounds a group (one caller's batch may exceed it alone): a commit holds the event loop while it runs. */
  constructor(
    private readonly appender: Appender,
    private readonly maxItems: number,
  ) {}

  append(inputs: readonly AppendInput[]): Promise<AppendResults> {
    if (inputs.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ inputs, resolve, reject });
      if (!this.#running) {
        this.#running = true;
        setImmediate(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    while (this.#waiting.length > 0) await this.#commitGroup(this.#takeGroup());
    this.#running = false;
  }

  #takeGroup(): Waiting[] {
    let items = this.#waiting[0]!.inputs.length;
    let count = 1;
    while (count < this.#waiting.length && items + this.#waiting[count]!.inputs.length <= this.maxItems) {
      items += this.#waiting[count]!.inputs.length;
      count++;
    }
    return this.#waiting.splice(0, count);
  }

  async #commitGroup(group: Waiting[]): Promise<void> {
    let results: AppendResults;
    try {
      results = await this.appender.append(group.length === 1 ? group[0]!.inputs : group.flatMap((waiting) => waiting.inputs));
    } catch (error) {
      if (group.length === 1) group[0]!.reject(error);
      else for (const waiting of group) await this.#commitGroup([waiting]);
      return;
    }
    let offset = 0;
    for (const waiting of group) {
      waiting.resolve(results.slice(offset, offset + waiting.inputs.length));
      offset += waiting.inputs.length;
    }
  }
}

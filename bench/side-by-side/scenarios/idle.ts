import type { MemorySample } from '../inspector-memory.js';
import { round, sleep, type RunContext } from '../run-context.js';

export interface IdleResult {
  connections: number;
  /** Memory of the server after a forced GC, before any connection and with all of them open. */
  before: MemorySample;
  after: MemorySample;
  rssPerConnectionKiB: number;
  heapPerConnectionKiB: number;
  openSeconds: number;
  retries: number;
}

/** Scenario 1: authenticated connections held idle; memory per connection after GC. */
export async function idle(context: RunContext): Promise<IdleResult> {
  const { load, server, options } = context;
  const before = await server.memory();
  await load.reset();
  const started = performance.now();
  // A few hundred at a time per worker: this is the steady state, not the storm.
  const opened = await load.open(server.url.replace('http', 'ws'), 250);
  const openSeconds = (performance.now() - started) / 1000;
  if (opened.ready !== options.connections) throw new Error(`idle: ${opened.ready} of ${options.connections} connections open`);
  await sleep(1000);
  const after = await server.memory();
  const per = (bytes: number) => round(bytes / options.connections / 1024, 2);
  return {
    connections: options.connections,
    before,
    after,
    rssPerConnectionKiB: per(after.rss - before.rss),
    heapPerConnectionKiB: per(after.heapUsed - before.heapUsed),
    openSeconds: round(openSeconds, 2),
    retries: opened.retries,
  };
}

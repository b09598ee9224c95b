import { DEFAULT_CENTRIFUGO_BINARY } from '../peers/centrifugo-binary.js';
import type { ServerKind } from './servers.js';
import { SERVER_KINDS } from './servers.js';

/** Every size of the side-by-side run; the defaults are the published targets' sizes, `smallOptions` the test's. */
export interface BenchOptions {
  /** Names the result file: bench/results/<set>-<timestamp>.json. */
  set: string;
  servers: ServerKind[];
  /** Servers on core 0 and the load generator on core 1 (taskset), when there is taskset and two cores. */
  pin: boolean;
  connections: number;
  /** Fan-out at full speed: rounds of one event per user. */
  fanoutRounds: number;
  publishBatch: number;
  /** Publish requests in flight at once in the full-speed runs. */
  publishConcurrency: number;
  /** Offered events/s of the latency run; by default half of bare ws's measured maximum. */
  fixedRate?: number;
  /** Offered events/s of the steady run: a rate every server sustains, so that the CPU each spends on it compares. */
  steadyRate: number;
  fixedRateSeconds: number;
  broadcasts: number;
  churnSeconds: number;
  churnPerSecond: number;
  /** Churn before the start figure is taken, so that first-use allocations do not count as growth. */
  churnWarmupSeconds: number;
  /** How long to wait for deliveries or connections before calling them lost. */
  waitTimeoutMs: number;
  /** A checkout with Herald built; the current one by default. */
  heraldDir: string;
  /** The Centrifugo binary; built there once (bench/peers/centrifugo-install.sh) when it is missing and Go is here. */
  centrifugoBinary: string;
  /** The Go command that builds Centrifugo; without Go the Centrifugo servers are skipped and the run says so. */
  goCommand: string;
  /** When set, each server's CPU profile of each scenario (but the restart) is written here. */
  cpuProfileDir?: string;
  /** Where the JSON, the table and the chart go. */
  resultsDir: string;
}

export const defaultOptions: BenchOptions = {
  set: 'side-by-side',
  servers: [...SERVER_KINDS],
  pin: true,
  connections: 15_000,
  fanoutRounds: 10,
  publishBatch: 1000,
  publishConcurrency: 4,
  fixedRateSeconds: 10,
  steadyRate: 2000,
  broadcasts: 20,
  churnSeconds: 300,
  churnPerSecond: 500,
  churnWarmupSeconds: 30,
  waitTimeoutMs: 300_000,
  heraldDir: '.',
  centrifugoBinary: DEFAULT_CENTRIFUGO_BINARY,
  goCommand: 'go',
  resultsDir: 'bench/results',
};

/** Sizes that keep every scenario of all three servers within a test's time. */
export const smallOptions: Partial<BenchOptions> = {
  connections: 50,
  fanoutRounds: 3,
  publishBatch: 20,
  fixedRateSeconds: 1,
  broadcasts: 3,
  churnSeconds: 3,
  churnPerSecond: 20,
  churnWarmupSeconds: 0,
  waitTimeoutMs: 20_000,
};

/** `--connections=15000 --servers=ws,herald ...`: any option by name; numbers are parsed, lists split on commas. */
export function parseOptions(argv: string[]): BenchOptions {
  const options: Record<string, unknown> = { ...defaultOptions };
  for (const argument of argv) {
    const match = /^--([a-zA-Z]+)=(.*)$/.exec(argument);
    if (!match) throw new Error(`unknown argument ${argument}: use --name=value (${Object.keys(defaultOptions).join(', ')}, fixedRate, cpuProfileDir)`);
    const [, name, value] = match as unknown as [string, string, string];
    if (name === 'servers') options[name] = serverList(value);
    else if (name === 'small') Object.assign(options, value === 'true' ? smallOptions : {});
    else if (value === 'true' || value === 'false') options[name] = value === 'true';
    else if (/^-?\d+(\.\d+)?$/.test(value)) options[name] = Number(value);
    else options[name] = value;
  }
  const steadyRate = options['steadyRate'];
  if (typeof steadyRate !== 'number' || !(steadyRate > 0)) throw new Error(`--steadyRate must be a positive number of events/s, not ${String(steadyRate)}`);
  return options as unknown as BenchOptions;
}

/** `ws,herald`: a typo must not quietly leave a server out of the run. */
function serverList(value: string): ServerKind[] {
  const kinds = value.split(',').map((kind) => kind.trim());
  const unknown = kinds.filter((kind) => !SERVER_KINDS.includes(kind as ServerKind));
  if (unknown.length > 0 || kinds.length === 0) throw new Error(`--servers: unknown server ${unknown.join(', ') || '(none)'}; use some of ${SERVER_KINDS.join(', ')}`);
  return [...new Set(kinds as ServerKind[])];
}

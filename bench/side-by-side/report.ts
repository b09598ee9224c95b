import type { SkippedServer } from './available-servers.js';
import type { ServerResult } from './run-server.js';
import { SERVER_KINDS, SERVER_LABELS, type ServerKind } from './servers.js';

/**
 * Deliveries (or connects) per second of server CPU: what holds from machine to machine, where deliveries per
 * wall second depend on how fast and how busy the cores were. Results written before the figure was recorded
 * are read from the rate and the CPU share.
 */
const perCpu = (stretch: { deliveriesPerSecond?: number; serverCpuShare: number; deliveriesPerCpuSecond?: number }): number | undefined => {
  if (stretch.deliveriesPerCpuSecond !== undefined) return stretch.deliveriesPerCpuSecond;
  if (stretch.deliveriesPerSecond === undefined) return undefined;
  return stretch.serverCpuShare > 0 ? Math.round(stretch.deliveriesPerSecond / stretch.serverCpuShare) : 0;
};

/** One figure of the comparison, read from each server's result. */
export interface Figure {
  id: string;
  label: string;
  unit: string;
  /** Which way is better, for the chart's reading and the verdicts. */
  better: 'lower' | 'higher';
  /** Undefined when the result has no such scenario (a file written before it was added). */
  read(result: ServerResult): number | undefined;
}

const HALF = "at half bare ws's maximum";
const STEADY = 'steady-rate run';

export const FIGURES: Figure[] = [
  { id: 'rssPerConnection', label: 'idle: RSS per connection', unit: 'KiB', better: 'lower', read: (r) => r.idle.rssPerConnectionKiB },
  { id: 'heapPerConnection', label: 'idle: heap per connection', unit: 'KiB', better: 'lower', read: (r) => r.idle.heapPerConnectionKiB },
  { id: 'fanout', label: 'per-user fan-out', unit: 'deliveries/s', better: 'higher', read: (r) => r.fanout.deliveriesPerSecond },
  { id: 'fanoutPerCpu', label: 'per-user fan-out per server CPU-second', unit: 'deliveries/CPU-s', better: 'higher', read: (r) => perCpu(r.fanout) },
  { id: 'latency', label: `fixed-rate run ${HALF}`, unit: 'deliveries/s', better: 'higher', read: (r) => r.latency.deliveriesPerSecond },
  { id: 'latencyPerCpu', label: `fixed-rate run ${HALF} per server CPU-second`, unit: 'deliveries/CPU-s', better: 'higher', read: (r) => perCpu(r.latency) },
  { id: 'latencyP50', label: `latency ${HALF}: p50`, unit: 'ms', better: 'lower', read: (r) => r.latency.p50Ms },
  { id: 'latencyP99', label: `latency ${HALF}: p99`, unit: 'ms', better: 'lower', read: (r) => r.latency.p99Ms },
  { id: 'latencyMax', label: `latency ${HALF}: max`, unit: 'ms', better: 'lower', read: (r) => r.latency.maxMs },
  { id: 'steady', label: STEADY, unit: 'deliveries/s', better: 'higher', read: (r) => r.steady?.deliveriesPerSecond },
  { id: 'steadyPerCpu', label: `${STEADY} per server CPU-second`, unit: 'deliveries/CPU-s', better: 'higher', read: (r) => r.steady && perCpu(r.steady) },
  { id: 'steadyP50', label: 'latency at the steady rate: p50', unit: 'ms', better: 'lower', read: (r) => r.steady?.p50Ms },
  { id: 'steadyP99', label: 'latency at the steady rate: p99', unit: 'ms', better: 'lower', read: (r) => r.steady?.p99Ms },
  { id: 'steadyMax', label: 'latency at the steady rate: max', unit: 'ms', better: 'lower', read: (r) => r.steady?.maxMs },
  { id: 'broadcast', label: 'broadcast', unit: 'deliveries/s', better: 'higher', read: (r) => r.broadcast.deliveriesPerSecond },
  { id: 'broadcastPerCpu', label: 'broadcast per server CPU-second', unit: 'deliveries/CPU-s', better: 'higher', read: (r) => perCpu(r.broadcast) },
  { id: 'storm', label: 'connect storm: all open', unit: 's', better: 'lower', read: (r) => r.storm.seconds },
  { id: 'stormCpu', label: 'connect storm: server CPU', unit: 'CPU-s', better: 'lower', read: (r) => r.storm.serverCpuSeconds },
  { id: 'stormPerCpu', label: 'connect storm per server CPU-second', unit: 'connects/CPU-s', better: 'higher', read: (r) => r.storm.connectsPerCpuSecond },
  { id: 'restart', label: 'restart: all resumed', unit: 's', better: 'lower', read: (r) => r.restart.seconds },
  { id: 'churnPerCpu', label: 'churn per server CPU-second', unit: 'reconnects/CPU-s', better: 'higher', read: (r) => r.churn.churnedPerCpuSecond },
  { id: 'churnGrowth', label: 'churn: RSS growth', unit: '%', better: 'lower', read: (r) => r.churn.rssGrowthPercent },
];

/** Herald's targets: a ratio of Herald's figure to a peer's, or (churn) Herald's own figure, against a bound. */
export interface Target {
  figure: string;
  against: Exclude<ServerKind, 'herald'> | 'absolute';
  /** Herald's ratio (or value) must be at most this for 'lower' figures, at least this for 'higher' ones. */
  bound: number;
  /** A target to reach for beyond the one that must hold. */
  stretch?: boolean;
}

export const TARGETS: Target[] = [
  { figure: 'rssPerConnection', against: 'ws', bound: 1.3 },
  { figure: 'rssPerConnection', against: 'socketio', bound: 0.5 },
  { figure: 'rssPerConnection', against: 'centrifugo', bound: 0.15 },
  { figure: 'fanout', against: 'ws', bound: 0.8 },
  { figure: 'fanout', against: 'socketio', bound: 3 },
  { figure: 'fanoutPerCpu', against: 'centrifugo-history', bound: 1 },
  { figure: 'fanoutPerCpu', against: 'centrifugo', bound: 1, stretch: true },
  { figure: 'latencyP99', against: 'ws', bound: 1.5 },
  { figure: 'steadyPerCpu', against: 'centrifugo-history', bound: 1 },
  { figure: 'steadyP99', against: 'centrifugo', bound: 1 },
  { figure: 'storm', against: 'ws', bound: 1.3 },
  { figure: 'restart', against: 'ws', bound: 1.3 },
  { figure: 'churnGrowth', against: 'absolute', bound: 10 },
];

export type Peer = Exclude<ServerKind, 'herald'>;

export interface Comparison {
  /** The servers in the run, in its order. */
  servers: ServerKind[];
  figures: {
    id: string;
    label: string;
    unit: string;
    better: 'lower' | 'higher';
    values: Partial<Record<ServerKind, number>>;
    /** Herald's figure over each peer's. */
    ratios: Partial<Record<Peer, number>>;
  }[];
  verdicts: { figure: string; label: string; against: Target['against']; bound: number; measured?: number; met?: boolean }[];
}

/** The figures of every server side by side, Herald's ratios to each peer, and a verdict for each target. */
export function compare(results: ServerResult[]): Comparison {
  const byKind = new Map(results.map((result) => [result.server, result]));
  const servers = SERVER_KINDS.filter((kind) => byKind.has(kind));
  const peers = servers.filter((kind): kind is Peer => kind !== 'herald');
  const ratio = (figure: Figure, peer: Peer) => {
    const herald = byKind.get('herald');
    const other = byKind.get(peer);
    const mine = herald && figure.read(herald);
    const theirs = other && figure.read(other);
    if (mine === undefined || !theirs) return undefined;
    return +(mine / theirs).toFixed(3);
  };
  const figures = FIGURES.map((figure) => ({
    id: figure.id,
    label: figure.label,
    unit: figure.unit,
    better: figure.better,
    values: Object.fromEntries(results.flatMap((result) => (figure.read(result) === undefined ? [] : [[result.server, figure.read(result)]]))),
    ratios: Object.fromEntries(peers.flatMap((peer) => (ratio(figure, peer) === undefined ? [] : [[peer, ratio(figure, peer)]]))),
  }));
  const verdicts = TARGETS.map((target) => {
    const figure = FIGURES.find((candidate) => candidate.id === target.figure)!;
    const herald = byKind.get('herald');
    const measured = target.against === 'absolute' ? herald && figure.read(herald) : ratio(figure, target.against);
    const met = measured === undefined ? undefined : figure.better === 'lower' ? measured <= target.bound : measured >= target.bound;
    return { figure: target.figure, label: targetLabel(figure, target), against: target.against, bound: target.bound, measured, met };
  });
  return { servers, figures, verdicts };
}

function targetLabel(figure: Figure, target: Target): string {
  const sign = figure.better === 'lower' ? 'at most' : 'at least';
  if (target.against === 'absolute') return `${figure.label}: ${sign === 'at most' ? 'under' : 'over'} ${target.bound}${figure.unit}`;
  return `${figure.label}: ${sign} ${target.bound}x ${SERVER_LABELS[target.against]}${target.stretch ? ' (stretch)' : ''}`;
}

const number = (value: number | undefined) => (value === undefined ? '–' : value.toLocaleString('en-US', { maximumFractionDigits: 2 }));

/**
 * The comparison as Markdown: each figure for every server with Herald's ratio to each peer, then the targets
 * with their verdicts, then the servers that could not run here.
 */
export function markdownTables(comparison: Comparison, skipped: SkippedServer[] = []): string {
  // Files from before Comparison named its servers had these three.
  const servers = comparison.servers ?? (['ws', 'socketio', 'herald'] as ServerKind[]);
  const peers = servers.filter((kind): kind is Peer => kind !== 'herald');
  const withHerald = servers.includes('herald');
  const ratioColumns = withHerald ? peers.map((peer) => `Herald/${SERVER_LABELS[peer]}`) : [];
  const header = ['figure', ...servers.map((kind) => SERVER_LABELS[kind]), ...ratioColumns];
  const lines = [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---|').join('')}`,
    ...comparison.figures.map((figure) => {
      const cells = [
        `${figure.label} (${figure.unit}, ${figure.better} is better)`,
        ...servers.map((kind) => number(figure.values[kind])),
        ...(withHerald ? peers.map((peer) => number(figure.ratios?.[peer])) : []),
      ];
      return `| ${cells.join(' | ')} |`;
    }),
    '',
    '| target | measured | met |',
    '|---|---|---|',
    ...comparison.verdicts.map(
      (verdict) =>
        `| ${verdict.label} | ${verdict.measured === undefined ? '–' : `${number(verdict.measured)}${verdict.against === 'absolute' ? '%' : 'x'}`} | ${verdict.met === undefined ? 'not measured' : verdict.met ? 'yes' : '**no**'} |`,
    ),
    ...(skipped.length ? ['', ...skipped.map((server) => `Not run: ${server.label}: ${server.reason}.`)] : []),
  ];
  return `${lines.join('\n')}\n`;
}

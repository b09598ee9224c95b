import type { ServerResult } from './run-server.js';
import type { ServerKind } from './servers.js';

const perCpu = (stretch: { deliveriesPerSecond: number; serverCpuShare: number }) =>
  stretch.serverCpuShare > 0 ? Math.round(stretch.deliveriesPerSecond / stretch.serverCpuShare) : 0;

/** One figure of the comparison, read from each server's result. */
export interface Figure {
  id: string;
  label: string;
  unit: string;
  /** Which way is better, for the chart's reading and the verdicts. */
  better: 'lower' | 'higher';
  read(result: ServerResult): number;
}

export const FIGURES: Figure[] = [
  { id: 'rssPerConnection', label: 'idle: RSS per connection', unit: 'KiB', better: 'lower', read: (r) => r.idle.rssPerConnectionKiB },
  { id: 'heapPerConnection', label: 'idle: heap per connection', unit: 'KiB', better: 'lower', read: (r) => r.idle.heapPerConnectionKiB },
  { id: 'fanout', label: 'per-user fan-out', unit: 'deliveries/s', better: 'higher', read: (r) => r.fanout.deliveriesPerSecond },
  // The cores were shared with other work during the runs: per CPU-second of the server is the steadier figure.
  { id: 'fanoutPerCpu', label: 'per-user fan-out per server CPU-second', unit: 'deliveries/CPU-s', better: 'higher', read: (r) => perCpu(r.fanout) },
  { id: 'latencyP50', label: 'latency at fixed rate: p50', unit: 'ms', better: 'lower', read: (r) => r.latency.p50Ms },
  { id: 'latencyP99', label: 'latency at fixed rate: p99', unit: 'ms', better: 'lower', read: (r) => r.latency.p99Ms },
  { id: 'latencyMax', label: 'latency at fixed rate: max', unit: 'ms', better: 'lower', read: (r) => r.latency.maxMs },
  { id: 'broadcast', label: 'broadcast', unit: 'deliveries/s', better: 'higher', read: (r) => r.broadcast.deliveriesPerSecond },
  { id: 'broadcastPerCpu', label: 'broadcast per server CPU-second', unit: 'deliveries/CPU-s', better: 'higher', read: (r) => perCpu(r.broadcast) },
  { id: 'storm', label: 'connect storm: all open', unit: 's', better: 'lower', read: (r) => r.storm.seconds },
  { id: 'restart', label: 'restart: all resumed', unit: 's', better: 'lower', read: (r) => r.restart.seconds },
  { id: 'churnGrowth', label: 'churn: RSS growth', unit: '%', better: 'lower', read: (r) => r.churn.rssGrowthPercent },
];

/** Herald's targets: a ratio of Herald's figure to a peer's, or (churn) Herald's own figure, against a bound. */
export interface Target {
  figure: string;
  against: ServerKind | 'absolute';
  /** Herald's ratio (or value) must be at most this for 'lower' figures, at least this for 'higher' ones. */
  bound: number;
}

export const TARGETS: Target[] = [
  { figure: 'rssPerConnection', against: 'ws', bound: 1.3 },
  { figure: 'rssPerConnection', against: 'socketio', bound: 0.5 },
  { figure: 'fanout', against: 'ws', bound: 0.8 },
  { figure: 'fanout', against: 'socketio', bound: 3 },
  { figure: 'latencyP99', against: 'ws', bound: 1.5 },
  { figure: 'storm', against: 'ws', bound: 1.3 },
  { figure: 'restart', against: 'ws', bound: 1.3 },
  { figure: 'churnGrowth', against: 'absolute', bound: 10 },
];

export interface Comparison {
  figures: { id: string; label: string; unit: string; better: 'lower' | 'higher'; values: Partial<Record<ServerKind, number>>; heraldOverWs?: number; heraldOverSocketio?: number }[];
  verdicts: { figure: string; label: string; against: ServerKind | 'absolute'; bound: number; measured?: number; met?: boolean }[];
}

/** The figures of every server side by side, Herald's ratios to each peer, and a verdict for each target. */
export function compare(results: ServerResult[]): Comparison {
  const byKind = new Map(results.map((result) => [result.server, result]));
  const ratio = (figure: Figure, peer: ServerKind) => {
    const herald = byKind.get('herald');
    const other = byKind.get(peer);
    if (!herald || !other || figure.read(other) === 0) return undefined;
    return +(figure.read(herald) / figure.read(other)).toFixed(3);
  };
  const figures = FIGURES.map((figure) => ({
    id: figure.id,
    label: figure.label,
    unit: figure.unit,
    better: figure.better,
    values: Object.fromEntries(results.map((result) => [result.server, figure.read(result)])),
    heraldOverWs: ratio(figure, 'ws'),
    heraldOverSocketio: ratio(figure, 'socketio'),
  }));
  const verdicts = TARGETS.map((target) => {
    const figure = FIGURES.find((candidate) => candidate.id === target.figure)!;
    const measured =
      target.against === 'absolute' ? byKind.get('herald') && figure.read(byKind.get('herald')!) : ratio(figure, target.against);
    const met = measured === undefined ? undefined : figure.better === 'lower' ? measured <= target.bound : measured >= target.bound;
    return { figure: target.figure, label: targetLabel(figure, target), against: target.against, bound: target.bound, measured, met };
  });
  return { figures, verdicts };
}

function targetLabel(figure: Figure, target: Target): string {
  const sign = figure.better === 'lower' ? 'at most' : 'at least';
  if (target.against === 'absolute') return `${figure.label}: ${sign === 'at most' ? 'under' : 'over'} ${target.bound}${figure.unit}`;
  return `${figure.label}: ${sign} ${target.bound}x ${target.against === 'ws' ? 'bare ws' : 'Socket.IO'}`;
}

const number = (value: number | undefined) => (value === undefined ? '–' : value.toLocaleString('en-US', { maximumFractionDigits: 2 }));

/** The comparison as Markdown: the figures with both ratios, then the targets with their verdicts. */
export function markdownTables(comparison: Comparison): string {
  const lines = [
    '| figure | bare ws | Socket.IO | Herald | Herald/ws | Herald/Socket.IO |',
    '|---|---|---|---|---|---|',
    ...comparison.figures.map(
      (figure) =>
        `| ${figure.label} (${figure.unit}, ${figure.better} is better) | ${number(figure.values.ws)} | ${number(figure.values.socketio)} | ${number(figure.values.herald)} | ${number(figure.heraldOverWs)} | ${number(figure.heraldOverSocketio)} |`,
    ),
    '',
    '| target | measured | met |',
    '|---|---|---|',
    ...comparison.verdicts.map(
      (verdict) =>
        `| ${verdict.label} | ${verdict.measured === undefined ? '–' : `${number(verdict.measured)}${verdict.against === 'absolute' ? '%' : 'x'}`} | ${verdict.met === undefined ? 'not measured' : verdict.met ? 'yes' : '**no**'} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

import { describe, expect, it } from 'vitest';
import { compare, markdownTables } from '../../../../bench/side-by-side/report.js';
import type { ServerResult } from '../../../../bench/side-by-side/run-server.js';
import { SERVER_LABELS, type ServerKind } from '../../../../bench/side-by-side/servers.js';
import { ratioChart } from '../../../../bench/side-by-side/svg-chart.js';

/** A result with the figures the report reads; `perCpu` deliveries per CPU-second in every delivering stretch. */
function result(server: ServerKind, perCpu: number, p99 = 10): ServerResult {
  const stretch = { deliveriesPerSecond: perCpu / 2, serverCpuShare: 0.5, serverCpuSeconds: 1, deliveriesPerCpuSecond: perCpu, received: perCpu };
  const latency = { ...stretch, p50Ms: p99 / 2, p99Ms: p99, maxMs: p99 * 2 };
  return {
    server,
    label: SERVER_LABELS[server],
    idle: { rssPerConnectionKiB: server.startsWith('centrifugo') ? 45 : 5, heapPerConnectionKiB: 3 },
    fanout: stretch,
    latency,
    steady: latency,
    broadcast: stretch,
    storm: { seconds: 1, serverCpuSeconds: 2, connectsPerCpuSecond: 500 },
    restart: { seconds: 1 },
    churn: { rssGrowthPercent: 1, churnedPerCpuSecond: 100 },
  } as unknown as ServerResult;
}

describe('the side-by-side report', () => {
  const results = [result('ws', 40_000, 8), result('socketio', 10_000), result('centrifugo', 32_000, 9), result('centrifugo-history', 24_000, 288), result('herald', 18_000, 22)];

  it('has a column for every server in the run and Herald\'s ratio to each peer', () => {
    const table = markdownTables(compare(results));
    expect(table.split('\n')[0]).toBe(
      '| figure | bare ws | Socket.IO | Centrifugo | Centrifugo + history | Herald | Herald/bare ws | Herald/Socket.IO | Herald/Centrifugo | Herald/Centrifugo + history |',
    );
    expect(table).toContain('| per-user fan-out per server CPU-second (deliveries/CPU-s, higher is better) | 40,000 | 10,000 | 32,000 | 24,000 | 18,000 | 0.45 | 1.8 | 0.56 | 0.75 |');
    expect(table).toContain('| steady-rate run per server CPU-second (deliveries/CPU-s, higher is better) | 40,000 | 10,000 | 32,000 | 24,000 | 18,000 |');
    expect(table).toContain('| connect storm: server CPU (CPU-s, lower is better) | 2 | 2 | 2 | 2 | 2 | 1 | 1 | 1 | 1 |');
  });

  it('judges the targets against Centrifugo', () => {
    const verdicts = compare(results).verdicts;
    const verdict = (figure: string, against: string) => verdicts.find((candidate) => candidate.figure === figure && candidate.against === against)!;
    expect(verdict('fanoutPerCpu', 'centrifugo-history')).toMatchObject({ measured: 0.75, met: false, label: 'per-user fan-out per server CPU-second: at least 1x Centrifugo + history' });
    expect(verdict('fanoutPerCpu', 'centrifugo')).toMatchObject({ measured: 0.563, met: false, label: expect.stringMatching(/\(stretch\)$/) as unknown });
    expect(verdict('steadyPerCpu', 'centrifugo-history')).toMatchObject({ measured: 0.75, met: false });
    expect(verdict('steadyP99', 'centrifugo')).toMatchObject({ measured: 2.444, met: false });
    expect(verdict('rssPerConnection', 'centrifugo')).toMatchObject({ measured: 0.111, met: true });
  });

  it('leaves out the columns of servers not in the run and says why they did not run', () => {
    const comparison = compare([results[0]!, results[4]!]);
    const table = markdownTables(comparison, [{ server: 'centrifugo', label: 'Centrifugo', reason: 'Go is not installed' }]);
    expect(table.split('\n')[0]).toBe('| figure | bare ws | Herald | Herald/bare ws |');
    expect(table).toContain('\nNot run: Centrifugo: Go is not installed.\n');
    expect(comparison.verdicts.find((verdict) => verdict.against === 'centrifugo-history')).toMatchObject({ measured: undefined, met: undefined });
    expect(table).toContain('| per-user fan-out per server CPU-second: at least 1x Centrifugo + history | – | not measured |');
  });

  it('reads per CPU-second from the rate and the CPU share in results written before it was recorded', () => {
    const old = results.map((entry) => ({ ...entry, fanout: { ...entry.fanout, deliveriesPerCpuSecond: undefined }, steady: undefined }) as unknown as ServerResult);
    const fanout = compare(old).figures.find((figure) => figure.id === 'fanoutPerCpu')!;
    expect(fanout.values.herald).toBe(18_000);
    expect(compare(old).figures.find((figure) => figure.id === 'steadyPerCpu')!.values).toEqual({});
    // A latency run recorded neither its rate nor its rate per CPU-second: no figure rather than NaN.
    const older = old.map((entry) => ({ ...entry, latency: { ...entry.latency, deliveriesPerSecond: undefined, deliveriesPerCpuSecond: undefined } }) as unknown as ServerResult);
    expect(compare(older).figures.find((figure) => figure.id === 'latencyPerCpu')!.values).toEqual({});
    expect(markdownTables(compare(older))).not.toContain('NaN');
  });

  it('draws a bar for each peer in the chart', () => {
    const chart = ratioChart(compare(results), 'title');
    for (const peer of ['bare ws', 'Socket.IO', 'Centrifugo', 'Centrifugo + history']) expect(chart).toContain(`Herald / ${peer}</text>`);
    expect(chart).toContain('>0.75x</text>');
  });
});

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultOptions, smallOptions } from '../../../../bench/side-by-side/options.js';
import { runSideBySide, type SideBySideRun } from '../../../../bench/side-by-side/run.js';

/**
 * The side-by-side benchmark (`npm run bench`) at a tiny size, so that it never rots: every scenario against the
 * Node.js servers, checked for well-formed results and for every event delivered. Timings are never asserted.
 * Centrifugo is asked for with no Go and no binary, so that the run must say it skipped it and go on: the test
 * never builds or runs it (its protocol, publisher and config have tests of their own).
 */
describe('the side-by-side benchmark harness', () => {
  const resultsDir = mkdtempSync(join(tmpdir(), 'herald-bench-harness-'));
  afterAll(() => rmSync(resultsDir, { recursive: true, force: true }));

  it('runs every scenario against bare ws, Socket.IO and Herald, loses nothing, and skips Centrifugo without Go', { timeout: 240_000 }, async () => {
    const options = {
      ...defaultOptions,
      ...smallOptions,
      set: 'test',
      resultsDir,
      pin: false,
      centrifugoBinary: join(resultsDir, 'no-centrifugo'),
      goCommand: join(resultsDir, 'no-go'),
    };
    const lines: string[] = [];
    const run: SideBySideRun = await runSideBySide(options, (line: string) => lines.push(line));

    expect(run.results.map((result) => result.server)).toEqual(['ws', 'socketio', 'herald']);
    expect(run.skipped.map((skipped) => skipped.server)).toEqual(['centrifugo', 'centrifugo-history']);
    for (const skipped of run.skipped) expect(skipped.reason).toMatch(/^Go is not installed .*no-go/);
    expect(lines.some((line) => /^skipped Centrifugo and Centrifugo \+ history: Go is not installed/.test(line))).toBe(true);
    for (const result of run.results) {
      const n = options.connections;
      expect(result.idle.connections, result.label).toBe(n);
      expect(result.idle.after.rss, result.label).toBeGreaterThan(0);
      expect(Number.isFinite(result.idle.rssPerConnectionKiB), result.label).toBe(true);

      expect(result.fanout, result.label).toMatchObject({ events: n * options.fanoutRounds, received: n * options.fanoutRounds, lost: 0, uneven: false });
      expect(result.fanout.deliveriesPerSecond, result.label).toBeGreaterThan(0);
      // Per server CPU-second beside per second, in every delivering scenario; the CPU seconds are the server's.
      for (const stretch of [result.fanout, result.latency, result.steady, result.broadcast]) {
        expect(stretch.serverCpuSeconds, result.label).toBeGreaterThanOrEqual(0);
        if (stretch.serverCpuSeconds > 0) expect(stretch.deliveriesPerCpuSecond, result.label).toBe(Math.round(stretch.received / stretch.serverCpuSeconds));
      }
      expect(result.storm.connectsPerCpuSecond, result.label).toBe(result.storm.serverCpuSeconds > 0 ? Math.round(n / result.storm.serverCpuSeconds) : 0);
      expect(result.churn.churnedPerCpuSecond, result.label).toBeGreaterThanOrEqual(0);

      expect(result.latency.events, result.label).toBeGreaterThan(0);
      expect(result.latency, result.label).toMatchObject({ received: result.latency.events, lost: 0 });
      expect(result.latency.p99Ms, result.label).toBeGreaterThanOrEqual(result.latency.p50Ms);
      expect(result.latency.maxMs, result.label).toBeGreaterThanOrEqual(result.latency.p99Ms);

      // The steady rate is the same for every server, and it is what was asked for.
      expect(result.steady.targetPerSecond, result.label).toBe(options.steadyRate);
      expect(result.steady.events, result.label).toBeGreaterThan(0);
      expect(result.steady, result.label).toMatchObject({ received: result.steady.events, lost: 0 });
      expect(result.steady.p99Ms, result.label).toBeGreaterThanOrEqual(result.steady.p50Ms);

      expect(result.broadcast, result.label).toMatchObject({ deliveries: n * options.broadcasts, received: n * options.broadcasts, lost: 0, uneven: false });

      expect(result.storm, result.label).toMatchObject({ connections: n, ready: n });
      expect(result.restart, result.label).toMatchObject({ connections: n, ready: n });

      expect(result.churn.churned, result.label).toBeGreaterThan(0);
      expect(result.churn.ready, result.label).toBe(n);
      expect(result.churn.end.rss, result.label).toBeGreaterThan(0);
    }

    // Every figure has a value for each server; a verdict for each target against a peer that ran, and none
    // against the Centrifugo servers that did not.
    for (const figure of run.comparison.figures) expect(Object.keys(figure.values).sort(), figure.id).toEqual(['herald', 'socketio', 'ws']);
    for (const verdict of run.comparison.verdicts) {
      if (verdict.against === 'centrifugo' || verdict.against === 'centrifugo-history') expect(verdict.met, verdict.label).toBeUndefined();
      else expect(typeof verdict.met, verdict.label).toBe('boolean');
    }

    const written = JSON.parse(readFileSync(run.files.json, 'utf8')) as SideBySideRun;
    expect(written.results).toHaveLength(3);
    const table = readFileSync(run.files.table, 'utf8');
    expect(table).toContain('| figure | bare ws | Socket.IO | Herald | Herald/bare ws | Herald/Socket.IO |');
    expect(table).toContain('| per-user fan-out per server CPU-second (deliveries/CPU-s, higher is better) |');
    expect(table).toContain('| steady-rate run per server CPU-second (deliveries/CPU-s, higher is better) |');
    expect(table).toMatch(/^Not run: Centrifugo: Go is not installed/m);
    expect(table).toMatch(/^Not run: Centrifugo \+ history: Go is not installed/m);
    expect(readFileSync(run.files.chart, 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*<\/svg>\n$/);
    expect(existsSync(run.files.json)).toBe(true);
  });
});

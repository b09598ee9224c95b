import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultOptions, smallOptions } from '../../../../bench/side-by-side/options.js';
import { runSideBySide, type SideBySideRun } from '../../../../bench/side-by-side/run.js';

/**
 * The side-by-side benchmark (`npm run bench`) at a tiny size, so that it never rots: every scenario against all
 * three servers, checked for well-formed results and for every event delivered. Timings are never asserted.
 */
describe('the side-by-side benchmark harness', () => {
  const resultsDir = mkdtempSync(join(tmpdir(), 'herald-bench-harness-'));
  afterAll(() => rmSync(resultsDir, { recursive: true, force: true }));

  it('runs every scenario against bare ws, Socket.IO and Herald and loses nothing', { timeout: 180_000 }, async () => {
    const options = { ...defaultOptions, ...smallOptions, set: 'test', resultsDir, pin: false };
    const run: SideBySideRun = await runSideBySide(options, () => {});

    expect(run.results.map((result) => result.server)).toEqual(['ws', 'socketio', 'herald']);
    for (const result of run.results) {
      const n = options.connections;
      expect(result.idle.connections, result.label).toBe(n);
      expect(result.idle.after.rss, result.label).toBeGreaterThan(0);
      expect(Number.isFinite(result.idle.rssPerConnectionKiB), result.label).toBe(true);

      expect(result.fanout, result.label).toMatchObject({ events: n * options.fanoutRounds, received: n * options.fanoutRounds, lost: 0, uneven: false });
      expect(result.fanout.deliveriesPerSecond, result.label).toBeGreaterThan(0);

      expect(result.latency.events, result.label).toBeGreaterThan(0);
      expect(result.latency, result.label).toMatchObject({ received: result.latency.events, lost: 0 });
      expect(result.latency.p99Ms, result.label).toBeGreaterThanOrEqual(result.latency.p50Ms);
      expect(result.latency.maxMs, result.label).toBeGreaterThanOrEqual(result.latency.p99Ms);

      expect(result.broadcast, result.label).toMatchObject({ deliveries: n * options.broadcasts, received: n * options.broadcasts, lost: 0, uneven: false });

      expect(result.storm, result.label).toMatchObject({ connections: n, ready: n });
      expect(result.restart, result.label).toMatchObject({ connections: n, ready: n });

      expect(result.churn.churned, result.label).toBeGreaterThan(0);
      expect(result.churn.ready, result.label).toBe(n);
      expect(result.churn.end.rss, result.label).toBeGreaterThan(0);
    }

    // Every figure has a value for each server, and a verdict for each target.
    for (const figure of run.comparison.figures) expect(Object.keys(figure.values).sort(), figure.id).toEqual(['herald', 'socketio', 'ws']);
    expect(run.comparison.verdicts.every((verdict) => typeof verdict.met === 'boolean')).toBe(true);

    const written = JSON.parse(readFileSync(run.files.json, 'utf8')) as SideBySideRun;
    expect(written.results).toHaveLength(3);
    expect(readFileSync(run.files.table, 'utf8')).toContain('| per-user fan-out');
    expect(readFileSync(run.files.chart, 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*<\/svg>\n$/);
    expect(existsSync(run.files.json)).toBe(true);
  });
});

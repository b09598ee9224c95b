import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HERALD_VERSION } from '../../src/version.js';
import { startGateway, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { httpRequest } from '../helpers/http-request.js';
import { metricValue } from '../helpers/metric-value.js';
import { TestClient } from '../helpers/ws-client.js';

/**
 * promtool (Debian's prometheus package) on the PATH, or PROMTOOL. Missing, the suite fails saying how to get it:
 * a check that quietly skipped would pass on every machine that lacks it.
 */
function findPromtool(): string {
  const candidates = [process.env['PROMTOOL'], ...(process.env['PATH'] ?? '').split(delimiter).map((dir) => join(dir, 'promtool'))];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not there; the next one.
    }
  }
  throw new Error('promtool is not installed: apt-get install prometheus (scripts/check-deploy.sh installs it), or set PROMTOOL');
}

function promtoolCheck(exposition: string): { status: number | null; output: string } {
  const result = spawnSync(findPromtool(), ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

/** Every value each labelled counter is known to take, as the README lists them. */
const KNOWN_LABELS: Array<[string, string, string[]]> = [
  ['herald_drops_total', 'reason', ['slow_consumer', 'duplicate', 'closed', 'idle', 'token_expired', 'frame_rate']],
  ['herald_refused_connections_total', 'reason', ['bad_request', 'not_found', 'origin', 'handshakes', 'draining', 'limit']],
  [
    'herald_http_client_errors_total',
    'code',
    ['HPE_INVALID_METHOD', 'HPE_INVALID_URL', 'HPE_HEADER_OVERFLOW', 'HPE_INVALID_HEADER_TOKEN', 'HPE_INVALID_CONTENT_LENGTH', 'ERR_HTTP_REQUEST_TIMEOUT', 'CONNECT'],
  ],
  ['herald_kafka_records_total', 'outcome', ['stored', 'duplicate', 'dead_lettered']],
  ['herald_redis_messages_total', 'direction', ['published', 'received']],
];

describe('/metrics', () => {
  let gateway: TestGateway;
  const scrape = async (): Promise<string> => (await httpRequest(gateway.baseUrl, '/metrics')).text;

  beforeAll(async () => {
    gateway = await startGateway('sqlite');
  });
  afterAll(() => gateway.close());

  it('exports every labelled counter at 0 for each of its known labels before anything happened', async () => {
    const text = await scrape();
    for (const [name, label, values] of KNOWN_LABELS) {
      for (const value of values) expect(text, `${name}{${label}="${value}"}`).toContain(`${name}{${label}="${value}"} 0\n`);
    }
  });

  it('has a sample of every counter from the start, so a labelled counter added later cannot forget its zeros', async () => {
    const text = await scrape();
    const counters = [...text.matchAll(/^# TYPE (\S+) counter$/gm)].map(([, name]) => name!);
    expect(counters.length).toBeGreaterThan(10);
    const withoutSample = counters.filter((name) => !new RegExp(`^${name}(\\{[^}]*\\})? `, 'm').test(text));
    expect(withoutSample).toEqual([]);
  });

  it('keeps the standard names of the process and Node.js metrics', async () => {
    const text = await scrape();
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_active_handles']) {
      expect(text, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    expect(text).not.toMatch(/^herald_(process|nodejs)_/m);
  });

  it("says which Herald and which Node.js it is", async () => {
    expect(await metricValue(gateway.baseUrl, 'herald_build_info', { version: HERALD_VERSION, nodejs_version: process.versions.node })).toBe(1);
  });

  it('times publish-to-socket for live events and each HTTP request by its route pattern', async () => {
    const user = uniqueUser('latency');
    const client = await TestClient.open(gateway.wsUrl, await gateway.token(user));
    await client.waitForType('connected');
    const before = await metricValue(gateway.baseUrl, 'herald_delivery_latency_seconds_count');
    const route = { method: 'POST', route: '/publish', status_code: '200' };
    const publishesBefore = await metricValue(gateway.baseUrl, 'herald_http_request_duration_seconds_count', route);
    expect((await gateway.publish({ user_id: user, type: 'task_update', payload: { n: 1 } })).status).toBe(200);
    await client.waitForSeq(1);
    await client.close();
    expect(await metricValue(gateway.baseUrl, 'herald_delivery_latency_seconds_count')).toBe(before + 1);
    expect(await metricValue(gateway.baseUrl, 'herald_delivery_latency_seconds_bucket', { le: '+Inf' })).toBe(before + 1);
    expect(await metricValue(gateway.baseUrl, 'herald_http_request_duration_seconds_count', route)).toBe(publishesBefore + 1);

    // Paths no route has share one series, whatever they are.
    await httpRequest(gateway.baseUrl, `/no-such-${uniqueUser()}`);
    await httpRequest(gateway.baseUrl, `/no-such-${uniqueUser()}`);
    const unmatched = { method: 'GET', route: 'unmatched', status_code: '404' };
    expect(await metricValue(gateway.baseUrl, 'herald_http_request_duration_seconds_count', unmatched)).toBeGreaterThanOrEqual(2);
    expect(await scrape()).not.toContain('route="/no-such-');
  });

  it('passes promtool check metrics, histograms and all', async () => {
    // After the test above, so that every histogram and labelled series has samples.
    await httpRequest(gateway.baseUrl, '/readyz');
    const text = await scrape();
    expect(text).toMatch(/^# TYPE herald_delivery_latency_seconds histogram$/m);
    expect(text).toMatch(/^# TYPE herald_http_request_duration_seconds histogram$/m);
    expect(promtoolCheck(text)).toEqual({ status: 0, output: '' });
  });

  it('is checked by a promtool that does find problems', () => {
    // The check above could pass by running nothing: the same promtool refuses a counter without _total.
    const bad = '# HELP herald_things Things\n# TYPE herald_things counter\nherald_things 1\n';
    const result = promtoolCheck(bad);
    expect(result.output).toMatch(/counter metrics should have "_total" suffix/);
  });
});

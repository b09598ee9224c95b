import { profiled } from './inspector-profile.js';
import { LoadGenerator } from './load-generator.js';
import type { BenchOptions } from './options.js';
import type { RunContext } from './run-context.js';
import { broadcast, type BroadcastResult } from './scenarios/broadcast.js';
import { churn, type ChurnResult } from './scenarios/churn.js';
import { fanout, type FanoutResult } from './scenarios/fanout.js';
import { idle, type IdleResult } from './scenarios/idle.js';
import { latency, type LatencyResult } from './scenarios/latency.js';
import { restart, storm, type RestartResult, type StormResult } from './scenarios/storm.js';
import { createTarget, SERVER_LABELS, type ServerKind } from './servers.js';

export interface ServerResult {
  server: ServerKind;
  label: string;
  idle: IdleResult;
  fanout: FanoutResult;
  /** At half of bare ws's maximum. */
  latency: LatencyResult;
  /** At the steady rate every server sustains (options.steadyRate). */
  steady: LatencyResult;
  broadcast: BroadcastResult;
  storm: StormResult;
  restart: RestartResult;
  churn: ChurnResult;
}

/**
 * Runs the scenarios against one server, in an order where each leaves what the next needs: the idle
 * connections carry the fan-out, latency and broadcast runs; the storm opens them again from nothing; the restart
 * brings them back; churn runs on the restarted process. `fixedRate` is the latency run's offered rate, or
 * undefined to use half of this server's own maximum (when bare ws is not in the run).
 */
export async function runServer(kind: ServerKind, options: BenchOptions, fixedRate?: number, log = console.log): Promise<ServerResult> {
  const target = createTarget(kind, { heraldDir: options.heraldDir, connections: options.connections, centrifugoBinary: options.centrifugoBinary });
  const load = LoadGenerator.start(options.connections);
  const server = await target.start();
  const prefix = `${kind}-${Date.now().toString(36)}`;
  const context: RunContext = {
    options,
    target,
    server,
    load,
    publisher: target.publisher(server.url),
    users: Array.from({ length: options.connections }, (_, index) => `${prefix}-${index}`),
  };
  try {
    await load.prepare(kind, options.connections, prefix);
    const step = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
      const dir = options.cpuProfileDir;
      const inspectorUrl = context.server.inspectorUrl;
      // The restart replaces the process under the profiler: that one scenario is not profiled. Nor is a server
      // without an inspector (Centrifugo: its pprof endpoint is on, for `go tool pprof` by hand).
      const result = dir && inspectorUrl && name !== 'restart' ? await profiled(inspectorUrl, dir, `${prefix}-${name.replace(/\W+/g, '-')}`, run) : await run();
      log(`  ${SERVER_LABELS[kind]} ${name}: ${JSON.stringify(result)}`);
      return result;
    };
    const idleResult = await step('idle', () => idle(context));
    const fanoutResult = await step('fan-out', () => fanout(context));
    const rate = fixedRate ?? fanoutResult.deliveriesPerSecond / 2;
    const latencyResult = await step('latency', () => latency(context, rate));
    const steadyResult = await step(`steady ${options.steadyRate}/s`, () => latency(context, options.steadyRate));
    const broadcastResult = await step('broadcast', () => broadcast(context));
    const stormResult = await step('connect storm', () => storm(context));
    const restartResult = await step('restart', () => restart(context));
    context.publisher = target.publisher(context.server.url);
    const churnResult = await step('churn', () => churn(context));
    return {
      server: kind,
      label: SERVER_LABELS[kind],
      idle: idleResult,
      fanout: fanoutResult,
      latency: latencyResult,
      steady: steadyResult,
      broadcast: broadcastResult,
      storm: stormResult,
      restart: restartResult,
      churn: churnResult,
    };
  } finally {
    await load.close().catch(() => {});
    await load.stop();
    await context.server.stop();
  }
}

import { nowMs } from '../client-protocols.js';
import { cpuFigures, perCpuSecond, round, sleep, startStretch, type CpuFigures, type RunContext } from '../run-context.js';
import { portOf } from '../servers.js';

export interface StormResult extends CpuFigures {
  connections: number;
  /** From the moment all clients start connecting until the last is open and authenticated. */
  seconds: number;
  ready: number;
  /** Attempts that failed (refused, closed before ready) and were tried again after a jittered pause. */
  retries: number;
  connectsPerCpuSecond: number;
}

export interface RestartResult {
  connections: number;
  /** From SIGTERM to the old process until every client is open (resumed) on the new one. */
  seconds: number;
  /** Of those, from spawning the new process until it listened. */
  serverStartSeconds: number;
  ready: number;
  retries: number;
}

/** Scenario 4a: every client connects with its JWT at the same moment. */
export async function storm(context: RunContext): Promise<StormResult> {
  const { load, options, server } = context;
  await load.close();
  // Let the server see the closes before the storm, so that it starts from no connections.
  await sleep(Math.min(3000, 500 + options.connections / 10));
  const serverCpu = await startStretch(context);
  const started = nowMs();
  const stats = await load.open(server.url.replace('http', 'ws'), Infinity);
  const cpu = serverCpu();
  return {
    connections: options.connections,
    seconds: round((stats.lastReadyAt - started) / 1000, 3),
    ready: stats.ready,
    retries: stats.retries,
    connectsPerCpuSecond: perCpuSecond(stats.ready, cpu),
    ...cpuFigures(cpu, stats),
  };
}

/** Scenario 4b: the server restarts under all its connections; time until every client is back. */
export async function restart(context: RunContext): Promise<RestartResult> {
  const { load, options, target } = context;
  const port = portOf(context.server.url);
  await load.reconnect(true, context.server.url.replace('http', 'ws'));
  await load.reset();
  const started = nowMs();
  await context.server.stop();
  const spawned = performance.now();
  context.server = await target.start(port);
  const serverStartSeconds = (performance.now() - spawned) / 1000;
  const stats = await load.until((now) => now.ready === options.connections && now.lastReadyAt > started, options.waitTimeoutMs);
  return {
    connections: options.connections,
    seconds: round((stats.lastReadyAt - started) / 1000, 3),
    serverStartSeconds: round(serverStartSeconds, 3),
    ready: stats.ready,
    retries: stats.retries,
  };
}

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InspectorSession } from './inspector-session.js';

/**
 * Records a CPU profile of a server process over one scenario (V8's sampling profiler, as `node --cpu-prof`,
 * but started and stopped around the scenario) and writes it as `<dir>/<name>.cpuprofile`.
 */
export async function profiled<T>(inspectorUrl: string, dir: string, name: string, run: () => Promise<T>): Promise<T> {
  const session = await InspectorSession.open(inspectorUrl);
  await session.call('Profiler.enable');
  await session.call('Profiler.setSamplingInterval', { interval: 1000 });
  await session.call('Profiler.start');
  try {
    return await run();
  } finally {
    const { profile } = await session.call<{ profile: unknown }>('Profiler.stop');
    session.close();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
  }
}

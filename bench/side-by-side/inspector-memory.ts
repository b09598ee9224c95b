import { InspectorSession } from './inspector-session.js';

export interface MemorySample {
  rss: number;
  heapUsed: number;
  /** Memory of C++ objects bound to JavaScript ones, and of Buffers and ArrayBuffers among them. */
  external: number;
  arrayBuffers: number;
}

/**
 * Asks a process, through its inspector, to collect garbage and then to report process.memoryUsage(). The same
 * way for all three servers, so that none needs a hook of its own; the session is closed right after.
 */
export async function memoryAfterGc(inspectorUrl: string): Promise<MemorySample> {
  const session = await InspectorSession.open(inspectorUrl);
  try {
    // Twice: the first pass can leave objects that finalisers of the first pass released.
    await session.call('HeapProfiler.collectGarbage');
    await session.call('HeapProfiler.collectGarbage');
    const answer = await session.call<{ result: { value: string } }>('Runtime.evaluate', {
      expression: 'JSON.stringify(process.memoryUsage())',
      returnByValue: true,
    });
    const usage = JSON.parse(answer.result.value) as MemorySample;
    return { rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external, arrayBuffers: usage.arrayBuffers };
  } finally {
    session.close();
  }
}

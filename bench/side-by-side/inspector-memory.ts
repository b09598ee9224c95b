import WebSocket from 'ws';

export interface MemorySample {
  rss: number;
  heapUsed: number;
}

/**
 * Asks a process, through its inspector, to collect garbage and then to report process.memoryUsage(). The same
 * way for all three servers, so that none needs a hook of its own; the session is closed right after.
 */
export async function memoryAfterGc(inspectorUrl: string): Promise<MemorySample> {
  const ws = new WebSocket(inspectorUrl, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let nextId = 1;
  const call = (method: string, params?: unknown) =>
    new Promise<{ result?: { result?: { value?: string } } }>((resolve, reject) => {
      const id = nextId++;
      const onMessage = (data: Buffer) => {
        const message = JSON.parse(data.toString()) as { id?: number; error?: unknown };
        if (message.id !== id) return;
        ws.off('message', onMessage);
        if (message.error) reject(new Error(`${method}: ${JSON.stringify(message.error)}`));
        else resolve(message as never);
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ id, method, params }));
    });
  try {
    // Twice: the first pass can leave objects that finalisers of the first pass released.
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const answer = await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
    const usage = JSON.parse(answer.result?.result?.value ?? '{}') as { rss: number; heapUsed: number };
    return { rss: usage.rss, heapUsed: usage.heapUsed };
  } finally {
    ws.close();
  }
}

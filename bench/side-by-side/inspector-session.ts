import WebSocket from 'ws';

/** A Chrome DevTools Protocol session with a server process, through the inspector it was started with. */
export class InspectorSession {
  private nextId = 1;

  private constructor(private readonly ws: WebSocket) {}

  static async open(inspectorUrl: string): Promise<InspectorSession> {
    const ws = new WebSocket(inspectorUrl, { perMessageDeflate: false, maxPayload: 2 ** 30 });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new InspectorSession(ws);
  }

  call<T = unknown>(method: string, params?: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onMessage = (data: Buffer) => {
        const message = JSON.parse(data.toString()) as { id?: number; error?: unknown; result?: T };
        if (message.id !== id) return;
        this.ws.off('message', onMessage);
        if (message.error) reject(new Error(`${method}: ${JSON.stringify(message.error)}`));
        else resolve(message.result as T);
      };
      this.ws.on('message', onMessage);
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Calls `listener` with the params of every event named `method` (e.g. HeapProfiler.addHeapSnapshotChunk). */
  onEvent<T>(method: string, listener: (params: T) => void): void {
    this.ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { method?: string; params?: T };
      if (message.method === method) listener(message.params as T);
    });
  }

  close(): void {
    this.ws.close();
  }
}

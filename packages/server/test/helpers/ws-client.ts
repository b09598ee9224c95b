import WebSocket from 'ws';

export interface Frame {
  type: string;
  seq?: number;
  broadcast?: boolean;
  payload: any;
}

export interface ClosedInfo {
  code: number;
  reason: string;
}

/**
 * A real `ws` client that records every frame it receives, so a test can wait for the frames it expects and
 * then assert on the whole list (nothing missing, nothing extra).
 */
export class TestClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<ClosedInfo>;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      this.notify();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.notify();
      });
    });
    ws.on('error', () => {
      // Surfaced through `closed`; an unhandled 'error' would crash the test process.
    });
  }

  /** Opens a connection; resolves once it is open (the handshake succeeded), even if the server then closes it. */
  static async connect(
    url: string,
    options: WebSocket.ClientOptions & { autoPong?: boolean; protocols?: string[] } = {},
  ): Promise<TestClient> {
    const { protocols = [], ...clientOptions } = options;
    const ws = new WebSocket(url, protocols, { perMessageDeflate: false, ...clientOptions });
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
      ws.once('error', reject);
    });
    if (options.autoPong !== false) {
      ws.on('message', (data) => {
        if ((JSON.parse(data.toString()) as Frame).type === 'ping') client.send({ type: 'pong', payload: {} });
      });
    }
    return client;
  }

  /** Connects with `?token=` (and `since` when given). */
  static async open(wsUrl: string, token: string, since?: number): Promise<TestClient> {
    const query = new URLSearchParams({ token });
    if (since !== undefined) query.set('since', String(since));
    return TestClient.connect(`${wsUrl}?${query}`);
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Stream events only (frames with a seq), in arrival order. */
  get events(): Frame[] {
    return this.frames.filter((frame) => frame.seq !== undefined);
  }

  /** Resolves when `predicate` holds over the frames received so far; rejects after `timeoutMs`. */
  async waitFor(predicate: (frames: Frame[]) => boolean, timeoutMs = 5000, what = 'frames'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.frames)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`Timed out waiting for ${what}; received: ${JSON.stringify(this.frames).slice(0, 2000)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until `count` frames of `type` have arrived and returns them. */
  async waitForType(type: string, count = 1, timeoutMs = 5000): Promise<Frame[]> {
    await this.waitFor((frames) => frames.filter((frame) => frame.type === type).length >= count, timeoutMs, `${count} × ${type}`);
    return this.frames.filter((frame) => frame.type === type);
  }

  /** Waits for stream events up to and including `seq`. */
  async waitForSeq(seq: number, timeoutMs = 5000): Promise<Frame[]> {
    await this.waitFor((frames) => frames.some((frame) => (frame.seq ?? 0) >= seq), timeoutMs, `seq ${seq}`);
    return this.events;
  }

  close(): Promise<ClosedInfo> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    return this.closed;
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

import { expect } from 'vitest';
import WebSocket from 'ws';
import type { Frame } from '../helpers/ws-client.js';

/** A frame as it came off the socket: parsed, and its size in bytes as sent. */
export interface SizedFrame {
  frame: Frame;
  bytes: number;
}

/**
 * A connected tab that records every frame it receives with its size on the wire, so that a test can check that
 * what Herald accepted arrived whole, at the size it was built for, and that the tab is still open afterwards.
 * Its own socket (not TestClient's): the sizes must be taken from the first frame on, replayed ones included.
 */
export class SizedTab {
  readonly received: SizedFrame[] = [];
  closedWith: { code: number; reason: string } | undefined;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as Frame;
      this.received.push({ frame, bytes: data.length });
      if (frame.type === 'ping') ws.send(JSON.stringify({ type: 'pong', payload: {} }));
      this.notify();
    });
    ws.on('close', (code, reason) => {
      this.closedWith = { code, reason: reason.toString() };
      this.notify();
    });
    ws.on('error', () => {
      // Seen through closedWith; an unhandled 'error' would end the test process.
    });
  }

  /** Opens a tab (with `since`, to replay) and waits for its `connected` frame. */
  static async open(wsUrl: string, token: string, since?: number): Promise<SizedTab> {
    const query = new URLSearchParams({ token });
    if (since !== undefined) query.set('since', String(since));
    const tab = new SizedTab(new WebSocket(`${wsUrl}?${query}`, { perMessageDeflate: false }));
    await tab.until(() => tab.received.some((entry) => entry.frame.type === 'connected'), 10_000, 'connected');
    return tab;
  }

  /** Waits for the stream event `seq` and returns it with its size. */
  async event(seq: number, timeoutMs = 10_000): Promise<SizedFrame> {
    await this.until(() => this.events.some((entry) => entry.frame.seq === seq), timeoutMs, `seq ${seq}`);
    return this.events.find((entry) => entry.frame.seq === seq)!;
  }

  /** The stream events received so far, in order. */
  get events(): SizedFrame[] {
    return this.received.filter((entry) => entry.frame.seq !== undefined);
  }

  /** The broadcast frames received so far, in order. */
  get broadcasts(): SizedFrame[] {
    return this.received.filter((entry) => entry.frame.broadcast === true);
  }

  /** Waits until `count` broadcast frames have arrived in all. */
  async broadcast(count: number, timeoutMs = 10_000): Promise<SizedFrame[]> {
    await this.until(() => this.broadcasts.length >= count, timeoutMs, `${count} broadcasts`);
    return this.broadcasts;
  }

  /** Fails unless the socket is open: no 4008 (or any other close) came. */
  expectOpen(): void {
    expect(this.closedWith, 'the tab was closed').toBeUndefined();
    expect(this.ws.readyState, 'the tab is still open').toBe(WebSocket.OPEN);
  }

  async close(): Promise<void> {
    if (this.closedWith) return;
    this.ws.close();
    await this.until(() => this.closedWith !== undefined, 5000, 'the close');
  }

  private async until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.closedWith) throw new Error(`closed (${this.closedWith.code} ${this.closedWith.reason}) while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; received ${this.received.length} frames`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

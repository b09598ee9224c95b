import { describe, expect, it } from 'vitest';
import { waitUntil } from '../../server/test/helpers/wait-until.js';
import { HeraldClient, type WebSocketLike } from '../src/herald-client.js';
import { FakeClock } from './fake-clock.js';

const HANDSHAKE_TIMEOUT_MS = 15_000;

/**
 * A WebSocket whose handshake fails the way each runtime reports it: with an error and then a close event
 * (browsers, ws, Node 24), or with only an error while it stays CONNECTING (Node 22's global WebSocket).
 */
function failingSocket(style: 'error and close' | 'error only') {
  const created: FailingSocket[] = [];
  class FailingSocket implements WebSocketLike {
    readyState = 0;
    onmessage = null;
    onclose: WebSocketLike['onclose'] = null;
    onerror: WebSocketLike['onerror'] = null;
    constructor() {
      created.push(this);
      setImmediate(() => {
        if (style === 'error and close') this.readyState = 3;
        this.onerror?.({});
        if (style === 'error and close') this.onclose?.({ code: 1006, reason: '' });
      });
    }
    send(): void {}
    close(): void {}
  }
  return { FailingSocket, created };
}

describe.each(['error and close', 'error only'] as const)('a handshake that fails with %s', (style) => {
  it('schedules exactly one retry at once, not after the handshake timeout', async () => {
    const { FailingSocket, created } = failingSocket(style);
    const clock = new FakeClock();
    const client = new HeraldClient({
      url: 'http://127.0.0.1:1',
      token: 'any-token',
      WebSocket: FailingSocket,
      clock,
      random: () => 0.5,
      reconnect: { initialDelayMs: 200, maxDelayMs: 3000, maxAttempts: Infinity },
    });
    const givenUp = (attempts: number) => () =>
      created.length === attempts && clock.pending.length > 0 && !clock.pending.includes(HANDSHAKE_TIMEOUT_MS);
    client.connect();
    await waitUntil(givenUp(1), 'the failed attempt to be given up');
    expect(clock.pending).toEqual([100]);
    clock.runNext();
    await waitUntil(givenUp(2), 'the second attempt to be given up');
    expect(clock.pending).toEqual([200]);
    expect(client.state).toBe('connecting');
    client.close();
  });
});

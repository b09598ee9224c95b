import { describe, expect, it } from 'vitest';
import { freePort } from '../../server/test/helpers/free-port.js';
import { waitUntil } from '../../server/test/helpers/wait-until.js';
import { backoffDelay, DEFAULT_RECONNECT } from '../src/backoff.js';
import { HeraldClient, type ConnectionState } from '../src/herald-client.js';
import { FakeClock } from './fake-clock.js';

describe('backoffDelay', () => {
  const options = { initialDelayMs: 100, maxDelayMs: 1000, maxAttempts: Infinity };

  it('doubles the window per attempt up to the cap, with the top of the window at random() → 1', () => {
    const top = [1, 2, 3, 4, 5, 6, 10, 60].map((attempt) => backoffDelay(attempt, options, () => 0.999_999_9));
    expect(top).toEqual([99, 199, 399, 799, 999, 999, 999, 999]);
  });

  it('spreads over the whole window (full jitter): random() → 0 gives 0, → 0.5 half the window', () => {
    expect(backoffDelay(4, options, () => 0)).toBe(0);
    expect(backoffDelay(4, options, () => 0.5)).toBe(400);
  });

  it('never gives up by default', () => {
    expect(DEFAULT_RECONNECT.maxAttempts).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('reconnect timing against a port where nothing listens', () => {
  async function refusedClient(options: { maxAttempts?: number; random: () => number }) {
    const clock = new FakeClock();
    const states: ConnectionState[] = [];
    const client = new HeraldClient({
      url: `http://127.0.0.1:${await freePort()}`,
      token: 'any-token',
      clock,
      random: options.random,
      reconnect: { initialDelayMs: 200, maxDelayMs: 3000, maxAttempts: options.maxAttempts ?? Infinity },
    });
    client.on('state', (state) => states.push(state));
    return { client, clock, states };
  }

  /** Waits for the real connection attempt to be refused and the client to schedule its retry. */
  async function nextRetryDelay(clock: FakeClock): Promise<number> {
    // While an attempt is in flight the only timer is its 15 s handshake timeout.
    await waitUntil(() => clock.pending.length === 1 && clock.pending[0] !== 15_000, 'a retry to be scheduled');
    return clock.pending[0]!;
  }

  it('waits initial·2^(n-1) (times random) before attempt n+1, capped, and keeps trying', async () => {
    const { client, clock, states } = await refusedClient({ random: () => 0.75 });
    client.connect();
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 7; attempt++) {
      delays.push(await nextRetryDelay(clock));
      clock.runNext();
    }
    expect(delays).toEqual([150, 300, 600, 1200, 2250, 2250, 2250]);
    // Never opened, so it is still connecting, not reconnecting.
    expect(new Set(states)).toEqual(new Set(['connecting']));
    client.close();
    expect(client.state).toBe('closed');
    expect(clock.pending).toEqual([]);
  });

  it('gives up after maxAttempts retries and says closed', async () => {
    const { client, clock, states } = await refusedClient({ maxAttempts: 2, random: () => 0.5 });
    client.connect();
    await nextRetryDelay(clock);
    clock.runNext();
    await nextRetryDelay(clock);
    clock.runNext();
    await waitUntil(() => client.state === 'closed', 'the client to give up');
    expect(clock.pending).toEqual([]);
    expect(states.at(-1)).toBe('closed');
  });
});

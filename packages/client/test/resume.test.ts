import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../server/test/helpers/wait-until.js';
import { HeraldClient, type ConnectionState } from '../src/herald-client.js';
import type { StreamFrame } from '@herald/protocol';
import { HeraldServer } from './herald-server.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(env?: Record<string, string>): Promise<HeraldServer> {
  const server = await HeraldServer.start(env);
  cleanups.push(() => server.close());
  return server;
}

function startClient(server: HeraldServer, userId: string, livenessGraceMs?: number) {
  const events: StreamFrame[] = [];
  const states: ConnectionState[] = [];
  const client = new HeraldClient({
    url: server.url,
    token: () => server.token(userId),
    // Short waits keep the test quick; the schedule itself is tested with a fake clock.
    reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    livenessGraceMs,
  });
  client.on('event', (frame) => events.push(frame));
  client.on('state', (state) => states.push(state));
  cleanups.push(() => client.close());
  client.connect();
  return { client, events, states };
}

/** Publishes notifications from..to one by one, each with its own id, retrying each until Herald accepts it. */
async function publishSteadily(server: HeraldServer, userId: string, [from, to]: [number, number], onEach?: (n: number) => Promise<void>) {
  for (let n = from; n <= to; n++) {
    // The id makes a retry of a publish whose answer was lost in the crash a no-op instead of a second event.
    while ((await server.publish({ user_id: userId, type: 'new_notification', id: `n-${n}`, payload: { n } })) !== 200) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await onEach?.(n);
  }
}

const numbers = (events: StreamFrame[]) =>
  events.filter((frame) => frame.type === 'new_notification').map((frame) => (frame.payload.payload as { n: number }).n);

describe('HeraldClient against a real Herald that dies mid-stream', () => {
  it('resumes after kill -9 and a restart with every event exactly once and in order', async () => {
    const server = await startServer();
    const user = 'resume-kill';
    const { client, events, states } = startClient(server, user);
    await waitUntil(() => client.state === 'open', 'the client to open');

    await publishSteadily(server, user, [1, 300], async (n) => {
      if (n === 120) {
        await server.kill('SIGKILL');
        // Down for a moment while the client retries, then back on the same port and data.
        await new Promise((resolve) => setTimeout(resolve, 300));
        await server.restart();
      }
    });
    await waitUntil(() => events.length >= 300, 'all 300 events to arrive', 15_000);

    expect(numbers(events)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(events.map((frame) => frame.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(client.lastSeq).toBe(300);
    expect(states).toContain('reconnecting');
    expect(states.at(-1)).toBe('open');
  });

  it('catches up on what was published while it could not reach Herald', async () => {
    const server = await startServer({ HERALD_PING_INTERVAL_MS: '200' });
    const user = 'resume-away';
    const { client, events } = startClient(server, user, 300);
    await waitUntil(() => client.state === 'open', 'the client to open');
    await publishSteadily(server, user, [1, 5]);
    await waitUntil(() => events.length === 5, 'the first 5 events');

    // Frozen, not dead: the client's own silence check has to notice (two ping intervals and a grace).
    server.process.kill('SIGSTOP');
    await waitUntil(() => client.state === 'reconnecting', 'the client to notice the silent server', 10_000);
    server.process.kill('SIGCONT');
    await publishSteadily(server, user, [6, 10]);
    await waitUntil(() => events.length >= 10, 'the events published after the freeze', 10_000);
    await waitUntil(() => client.state === 'open', 'the client to open again', 10_000);

    expect(numbers(events)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  }, 30_000);
});

import { BENCH_API_KEY } from '../herald-process.js';
import { nowMs } from './client-protocols.js';

/** Herald takes at most 1,000 items in one publish body. */
export const MAX_BATCH = 1000;

/** How the load generator's coordinator publishes to a server; every payload carries `sent`, the publisher's clock. */
export interface Publisher {
  /** One `new_notification` for each user, in one request. */
  publish(users: string[], payload?: Record<string, unknown>): Promise<void>;
  /** One event to every connection; `users` are all the users, for a server that addresses them by channel. */
  broadcast(users: string[], payload?: Record<string, unknown>): Promise<void>;
}

/** Posts Herald's bodies, to Herald and to the Node.js peers that take the same ones. */
export class HeraldPublisher implements Publisher {
  constructor(private readonly base: string) {}

  publish(users: string[], payload: Record<string, unknown> = {}): Promise<void> {
    const sent = nowMs();
    return this.post(
      '/publish',
      users.map((user) => ({ user_id: user, type: 'new_notification', payload: { ...payload, sent } })),
    );
  }

  broadcast(_users: string[], payload: Record<string, unknown> = {}): Promise<void> {
    return this.post('/broadcast', { type: 'new_notification', payload: { ...payload, sent: nowMs() } });
  }

  private async post(path: string, body: unknown): Promise<void> {
    const response = await fetch(`${this.base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BENCH_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== 200) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
  }
}

/** Runs `tasks` with at most `concurrency` of them in flight. */
export async function inFlight(tasks: (() => Promise<void>)[], concurrency: number): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, lane));
}

import { randomUUID } from 'node:crypto';
import { personalChannel } from '../peers/centrifugo-config.js';
import { nowMs } from './client-protocols.js';
import type { Publisher } from './publisher.js';

/**
 * Publishes to Centrifugo through its HTTP API's batch method (`POST /api/batch`, `X-API-Key`), one publish
 * command per user to the user's personal channel. The data is shaped as Herald's `new_notification` frame
 * carries it (an id, the status fields, the producer's payload), so that the same bytes go on the wire; the
 * producer makes the id and time here, which Herald makes itself.
 */
export class CentrifugoPublisher implements Publisher {
  constructor(
    private readonly base: string,
    private readonly apiKey: string,
  ) {}

  publish(users: string[], payload: Record<string, unknown> = {}): Promise<void> {
    const sent = nowMs();
    const createdAt = new Date().toISOString();
    return this.batch(
      users.map((user) => ({
        publish: {
          channel: personalChannel(user),
          data: {
            type: 'new_notification',
            payload: { id: randomUUID(), key: null, status: 'unread', created_at: createdAt, read_at: null, payload: { ...payload, sent } },
          },
        },
      })),
    );
  }

  /**
   * Every user's personal channel in one broadcast command. Herald keeps no broadcast in a stream, so neither
   * does Centrifugo (`skip_history`).
   */
  broadcast(users: string[], payload: Record<string, unknown> = {}): Promise<void> {
    const data = { type: 'new_notification', broadcast: true, payload: { ...payload, sent: nowMs() } };
    return this.batch([{ broadcast: { channels: users.map(personalChannel), data, skip_history: true } }]);
  }

  private async batch(commands: unknown[]): Promise<void> {
    const response = await fetch(`${this.base}/api/batch`, {
      method: 'POST',
      headers: { 'x-api-key': this.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ commands }),
    });
    const text = await response.text();
    // A command that failed answers 200 with an error in its reply.
    if (response.status !== 200 || text.includes('"error"')) throw new Error(`/api/batch answered ${response.status}: ${text.slice(0, 500)}`);
  }
}

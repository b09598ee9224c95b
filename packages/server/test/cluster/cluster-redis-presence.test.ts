import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { RedisLink } from '../../src/cluster/redis-link.js';
import { RedisPresence } from '../../src/cluster/redis-presence.js';
import { createLogger } from '../../src/logger.js';
import { waitUntil } from '../helpers/wait-until.js';

// One RedisPresence on the run's Redis, without the rest of the gateway, and news from "other nodes" published
// by hand on its channel: what is malformed changes nothing, and the news after it is taken as usual.

describe('RedisPresence news from other nodes', () => {
  const closing: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close();
  });

  it('drops malformed news, warning once per reason, and takes the next good one', async () => {
    const keyPrefix = `test-${randomBytes(6).toString('hex')}:`;
    const warnings: Array<Record<string, unknown>> = [];
    const logger = createLogger('warn', { write: (line: string) => void warnings.push(JSON.parse(line)) });
    const link = new RedisLink(inject('redisUrl'), logger);
    await link.connect();
    closing.push(() => link.close());
    const presence = new RedisPresence({ link, keyPrefix, nodeId: 'here', ttlMs: 60_000, logger });
    await presence.start();
    closing.push(() => presence.close());

    const admin = createClient({ url: inject('redisUrl') });
    await admin.connect();
    closing.push(() => admin.close());
    const channel = `${keyPrefix}presence`;
    for (const text of [
      '{"node":',
      '"zoe"',
      JSON.stringify({ node: 'there', user: 'zoe', online: 'true' }),
      JSON.stringify({ node: 'there', user: 42, online: true }),
      JSON.stringify({ node: 'there', user: 'zoe' }),
      JSON.stringify({ node: 'there', gone: true, user: 'zoe', online: true }),
      JSON.stringify({ node: 'there', joined: 'zoe' }),
    ]) {
      await admin.publish(channel, text);
    }
    expect(presence.isConnected('zoe')).toBe(false);

    await admin.publish(channel, JSON.stringify({ node: 'there', user: 'yann', online: true }));
    await waitUntil(() => presence.isConnected('yann'), 'the good news is taken');
    expect(presence.isConnected('zoe')).toBe(false);
    expect(presence.connectedUsers()).toEqual(['yann']);
    const dropped = warnings.filter((line) => line['receiver'] === 'presence');
    expect(dropped.map((line) => line['reason']).sort()).toEqual(['ambiguous kind', 'invalid field', 'not JSON', 'not an object', 'unknown kind']);

    await admin.publish(channel, JSON.stringify({ node: 'there', gone: true }));
    await waitUntil(() => !presence.isConnected('yann'), 'the node that left is forgotten');
  });
});

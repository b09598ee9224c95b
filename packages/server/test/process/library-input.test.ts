import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeraldError } from '../../src/errors.js';
import { Herald, loadConfig } from '../../src/index.js';
import { createLogger } from '../../src/logger.js';

/** A value nested `depth` objects deep. */
function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let level = 0; level < depth; level++) value = { inner: value };
  return value;
}

/**
 * The library is an edge like POST /publish and /broadcast: a caller in plain JavaScript gets the same checks, with
 * messages that name the place under `input`, and nothing is stored or sent when a check fails.
 */
describe('Herald.publish and Herald.broadcast refuse what HTTP refuses', () => {
  let herald: Herald;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-library-input-'));
    const config = loadConfig({
      HERALD_DATA_DIR: dir,
      HERALD_JWT_SECRET: 'library-input-secret-long-enough-for-hs256',
      HERALD_API_KEY: 'library-input-api-key-0123',
    });
    herald = await Herald.create({ config, logger: createLogger('silent') });
  });
  afterAll(async () => {
    await herald?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const refusal = async (attempt: () => unknown): Promise<string> => {
    try {
      await attempt();
    } catch (error) {
      expect(error).toBeInstanceOf(HeraldError);
      expect((error as HeraldError).code).toBe('bad_request');
      return (error as Error).message;
    }
    throw new Error('expected a refusal');
  };
  const item = (user: string) => ({ user_id: user, type: 'new_notification' as const, payload: { title: 't' } });

  it.each([
    ['an empty batch', [], 'input must hold at least one item'],
    ['a batch over 1000 items', Array.from({ length: 1001 }, () => item('many')), 'input must hold at most 1000 items'],
    ['a bad item in a batch', [item('a'), { ...item('b'), user_id: 7 }], 'input[1].user_id must be string'],
    ['an unknown field', { ...item('c'), extra: true }, 'input.extra is not allowed'],
    ['an unknown type', { ...item('d'), type: 'all_read' }, 'input.type'],
    ['a payload too deep', { ...item('e'), payload: nested(40) }, 'input is nested deeper than 32 levels'],
    ['null', null, 'input'],
    ['a string', 'hello', 'input'],
  ])('publish refuses %s', async (_name, input, message) => {
    expect(await refusal(() => herald.publish(input as never))).toContain(message);
  });

  it('publish stores nothing from a batch with one bad item', async () => {
    await refusal(() => herald.publish([item('atomic'), { ...item('atomic'), payload: 'no' as never }]));
    const [first] = await herald.publish(item('atomic'));
    expect(first?.seq).toBe(1);
  });

  it.each([
    ['a payload too deep', 'task_update', nested(40), 'input.payload is nested deeper than 32 levels'],
    ['a type that is not publishable', 'connected', {}, 'input.type'],
    ['a payload that is not an object', 'task_update', [1, 2], 'input.payload'],
  ])('broadcast refuses %s', async (_name, type, payload, message) => {
    expect(await refusal(() => herald.broadcast(type as never, payload as never))).toContain(message);
  });
});

import { ErrorCode } from '@herald/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds, type DatabaseKind } from '../helpers/databases.js';
import { startGateway, TEST_API_KEY, uniqueUser, type TestGateway } from '../helpers/gateway.js';
import { hs256, nowS } from '../helpers/hs256.js';
import { httpRequest, type HttpResponse } from '../helpers/http-request.js';
import { identifierLike, isIdentifierByHand } from './identifier-forms.js';

// Any identifier, cursor or batch sent to a real gateway on SQLite and to one on PostgreSQL gets the same answer
// from both: 2xx, or 4xx in Herald's error shape, never a 500; and what one stores, both store and read back
// unchanged. The reference for what is taken is written by hand (identifier-forms.ts), not the code's pattern.

const errorCodes = new Set<string>(Object.values(ErrorCode));

/** The answer is 2xx, or 4xx with exactly `{error, message}` and a known code. */
function expectHeraldAnswer(response: HttpResponse): void {
  expect(response.status, response.text).toBeGreaterThanOrEqual(200);
  expect(response.status, response.text).toBeLessThan(500);
  if (response.status >= 400) {
    expect(Object.keys(response.body).sort()).toEqual(['error', 'message']);
    expect(errorCodes.has(response.body.error)).toBe(true);
    expect(typeof response.body.message).toBe('string');
  }
}

/**
 * An answer without what each database makes up on its own (notification ids, timestamps): what is left must be
 * the same from both.
 */
function comparable(body: any): unknown {
  if (Array.isArray(body?.events)) return { ...body, events: body.events.map(({ notification_id: _id, ...event }: any) => event) };
  if (Array.isArray(body?.items)) return { ...body, items: body.items.map(({ payload, key, status }: any) => ({ payload, key, status })) };
  return body;
}

const tokenFor = (sub: string) => hs256({ sub, iat: nowS(), exp: nowS() + 600 });

/** What a cursor the edge takes looks like: digits with no leading zero, at most Number.MAX_SAFE_INTEGER. */
const isCursorByHand = (text: string) => /^[1-9][0-9]*$/.test(text) && BigInt(text) <= BigInt(Number.MAX_SAFE_INTEGER);

describe('property: the same answers for the same identifiers on both databases', () => {
  const gateways = {} as Record<DatabaseKind, TestGateway>;
  beforeAll(async () => {
    for (const kind of databaseKinds) gateways[kind] = await startGateway(kind);
  });
  afterAll(() => Promise.all(databaseKinds.map((kind) => gateways[kind]?.close())));

  /** The same request to each gateway, in turn: each answer in Herald's shape, and the same from both. */
  async function onBoth(path: string, init: Parameters<typeof httpRequest>[2]): Promise<HttpResponse[]> {
    const answers: HttpResponse[] = [];
    for (const kind of databaseKinds) {
      const response = await httpRequest(gateways[kind].baseUrl, path, init);
      expectHeraldAnswer(response);
      answers.push(response);
    }
    const [first, second] = answers;
    expect({ status: second!.status, body: comparable(second!.body) }).toEqual({ status: first!.status, body: comparable(first!.body) });
    return answers;
  }

  it('publish: an item is stored exactly when its user_id and id are identifiers, and reads back byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(identifierLike, fc.option(identifierLike, { nil: undefined }), fc.string({ unit: 'binary', maxLength: 10 }), async (userId, id, text) => {
        // A nonce in the payload finds this run's item, whatever earlier runs stored for the same user.
        const nonce = uniqueUser('nonce');
        const item = { user_id: userId, type: 'new_notification', payload: { nonce, text }, ...(id !== undefined && { id }) };
        const answers = await onBoth('/publish', { bearer: TEST_API_KEY, body: item });
        // The payload's text is any string: one with NUL or a lone surrogate is refused too (jsonb cannot store it).
        const storable = !text.includes('\u0000') && text.isWellFormed();
        const taken = isIdentifierByHand(userId) && (id === undefined || isIdentifierByHand(id)) && storable;
        expect(answers[0]!.status).toBe(taken ? 200 : 400);
        if (!taken) return;

        const stored = answers[0]!.body.stored;
        const token = await tokenFor(userId);
        for (const [index, kind] of databaseKinds.entries()) {
          // A repeat of an earlier run's (user_id, id) stores nothing and names no event.
          const events = answers[index]!.body.events as Array<{ user_id: string }>;
          expect(events.map((event) => Buffer.from(event.user_id))).toEqual(stored === 1 ? [Buffer.from(userId)] : []);
          const page = await httpRequest(gateways[kind].baseUrl, '/notifications?limit=100', { bearer: token });
          expect(page.status).toBe(200);
          const keyed = page.body.items.filter((entry: { key: string | null }) => entry.key === (id ?? null));
          expect(keyed.length).toBeGreaterThan(0);
          if (stored === 1) {
            const mine = page.body.items.find((entry: { payload: { nonce?: string } }) => entry.payload.nonce === nonce);
            expect(mine.payload).toEqual({ nonce, text });
            expect(mine.key === null ? null : Buffer.from(mine.key)).toEqual(id === undefined ? null : Buffer.from(id));
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('tokens: a sub names its user exactly when it is an identifier, else 401', async () => {
    await fc.assert(
      fc.asyncProperty(identifierLike, async (sub) => {
        const answers = await onBoth('/notifications/unread-count', { bearer: await tokenFor(sub) });
        const expected = isIdentifierByHand(sub) ? 200 : 401;
        expect(answers[0]!.status).toBe(expected);
        if (expected === 401) expect(answers[0]!.body.error).toBe(ErrorCode.Unauthorized);
      }),
      { numRuns: 150 },
    );
  });

  it('mark-read: ids are taken exactly when every one is an identifier, and match none of the caller', async () => {
    const token = await tokenFor(uniqueUser('marker'));
    await fc.assert(
      fc.asyncProperty(fc.array(identifierLike, { maxLength: 4 }), async (ids) => {
        const answers = await onBoth('/notifications/mark-read', { bearer: token, body: { notification_ids: ids } });
        const taken = ids.every(isIdentifierByHand);
        expect(answers[0]!.status).toBe(taken ? 200 : 400);
        if (taken) expect(answers[0]!.body).toEqual({ notification_ids: [] });
      }),
      { numRuns: 150 },
    );
  });

  it('cursors: a page exactly for digits up to Number.MAX_SAFE_INTEGER, else 400, the same on both', async () => {
    const owner = uniqueUser('cursor-owner');
    for (const kind of databaseKinds) {
      await gateways[kind].publish([1, 2, 3].map((n) => ({ user_id: owner, type: 'new_notification', payload: { n } })));
    }
    const token = await tokenFor(owner);
    const cursors = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 6 }),
      fc.bigInt({ min: -10n, max: 10n ** 20n }).map(String),
      fc.bigInt({ min: 2n ** 31n - 3n, max: 2n ** 31n + 3n }).map(String),
      fc.bigInt({ min: BigInt(Number.MAX_SAFE_INTEGER) - 3n, max: BigInt(Number.MAX_SAFE_INTEGER) + 3n }).map(String),
      fc.constantFrom('0', '1', '4', '01', '1e3', ' 2', '2 ', '0x10', '+1', '1.0'),
    );
    await fc.assert(
      fc.asyncProperty(cursors, async (cursor) => {
        const answers = await onBoth(`/notifications?cursor=${encodeURIComponent(cursor)}`, { bearer: token });
        const expected = isCursorByHand(cursor) ? 200 : 400;
        expect(answers[0]!.status).toBe(expected);
        if (expected === 200) {
          // Both databases numbered the owner's three notifications 1, 2, 3.
          const newest = answers[0]!.body.items.map((item: { payload: { n: number } }) => item.payload.n);
          expect(newest).toEqual([3, 2, 1].filter((n) => n < Number(cursor)));
        }
      }),
      { numRuns: 200 },
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchKeys, batchUsers, planAppend } from '../../src/store/append-plan.js';
import type { AppendInput } from '../../src/store/store.js';

// Few users and keys, so that users interleave and keys repeat within a batch and against the store.
const USERS = ['alice', 'bob', 'carol', 'dave'];
const KEYS = ['k1', 'k2', 'k3'];

const input: fc.Arbitrary<AppendInput> = fc.record({
  userId: fc.constantFrom(...USERS),
  type: fc.constantFrom('new_notification' as const, 'task_update' as const),
  key: fc.option(fc.constantFrom(...KEYS), { nil: null, freq: 3 }),
  payload: fc.record({ n: fc.nat() }),
});

const state = fc.record({
  lastSeqs: fc.record(Object.fromEntries(USERS.map((userId) => [userId, fc.nat({ max: 1_000 })]))),
  storedPairs: fc.uniqueArray(fc.tuple(fc.constantFrom(...USERS), fc.constantFrom(...KEYS)), {
    selector: ([userId, key]) => `${userId}/${key}`,
  }),
});

/** The Store's promise worked out one item at a time: each input's seq, or null for a repeat. */
function oneAtATime(inputs: readonly AppendInput[], lastSeqs: Record<string, number>, storedPairs: readonly [string, string][]): (number | null)[] {
  const heads = new Map(Object.entries(lastSeqs));
  const seen = new Set(storedPairs.map(([userId, key]) => `${userId}/${key}`));
  return inputs.map(({ userId, key }) => {
    if (key !== null) {
      if (seen.has(`${userId}/${key}`)) return null;
      seen.add(`${userId}/${key}`);
    }
    const seq = heads.get(userId)! + 1;
    heads.set(userId, seq);
    return seq;
  });
}

describe('property: the append plan', () => {
  it('skips exactly the repeats and numbers the rest as appending one at a time would, rows and last seqs too', () => {
    fc.assert(
      fc.property(fc.array(input, { maxLength: 40 }), state, (inputs, { lastSeqs, storedPairs }) => {
        const storedKeys = new Map<string, Set<string>>();
        for (const [userId, key] of storedPairs) storedKeys.set(userId, (storedKeys.get(userId) ?? new Set()).add(key));
        const createdAt = new Date(0).toISOString();
        const plan = planAppend(inputs, { lastSeqs: new Map(Object.entries(lastSeqs)), storedKeys }, createdAt);

        const expected = oneAtATime(inputs, lastSeqs, storedPairs);
        expect(plan.results.map((event) => event?.seq ?? null)).toEqual(expected);
        plan.results.forEach((event, n) => {
          if (event !== null) expect([event.userId, event.type, event.createdAt]).toEqual([inputs[n]!.userId, inputs[n]!.type, createdAt]);
        });

        const kept = inputs.flatMap((item, n) => (expected[n] === null ? [] : [{ ...item, seq: expected[n]! }]));
        expect(plan.eventRows.map((row) => [row.user_id, row.seq, row.type, row.key])).toEqual(
          kept.map((item) => [item.userId, item.seq, item.type, item.key]),
        );
        expect(plan.notificationRows.map((row) => [row.user_id, row.seq, row.key])).toEqual(
          kept.filter((item) => item.type === 'new_notification').map((item) => [item.userId, item.seq, item.key]),
        );

        // Exactly the users that got an event, first-appearance order, each at its last seq.
        const moved = batchUsers(kept).map((userId) => [userId, Math.max(...kept.filter((k) => k.userId === userId).map((k) => k.seq))]);
        expect([...plan.newLastSeqs]).toEqual(moved);
      }),
      { numRuns: 500 },
    );
  });

  it('asks to read each user and each (user, key) pair of the batch exactly once', () => {
    fc.assert(
      fc.property(fc.array(input, { maxLength: 40 }), (inputs) => {
        const users = batchUsers(inputs);
        expect(new Set(users)).toEqual(new Set(inputs.map((item) => item.userId)));
        expect(users).toHaveLength(new Set(users).size);
        const pairs = batchKeys(inputs).map(([userId, key]) => `${userId}/${key}`);
        const keyed = inputs.filter((item) => item.key !== null).map((item) => `${item.userId}/${item.key}`);
        expect(pairs).toEqual([...new Set(keyed)]);
      }),
      { numRuns: 300 },
    );
  });
});

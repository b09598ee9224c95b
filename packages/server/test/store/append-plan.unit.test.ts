import { describe, expect, it } from 'vitest';
import { addKey, batchKeys, batchUsers, planAppend, type StoredState } from '../../src/store/append-plan.js';
import type { AppendInput, StoredEvent } from '../../src/store/store.js';

const CREATED_AT = '2026-12-01T12:00:00.000Z';

function item(userId: string, key: string | null = null, type: AppendInput['type'] = 'task_update'): AppendInput {
  return { userId, type, key, payload: { userId, key } };
}

/** What an appender would have read: every user's last seq (0 unless given) and the stored keys given. */
function stored(
  inputs: readonly AppendInput[],
  lastSeqs: Record<string, number> = {},
  keys: Record<string, string[]> = {},
): StoredState {
  return {
    lastSeqs: new Map(batchUsers(inputs).map((userId) => [userId, lastSeqs[userId] ?? 0])),
    storedKeys: new Map(Object.entries(keys).map(([userId, own]) => [userId, new Set(own)])),
  };
}

/** Each result as [user, seq], or null for a repeat. */
function numbered(results: readonly (StoredEvent | null)[]): ([string, number] | null)[] {
  return results.map((event) => (event === null ? null : [event.userId, event.seq]));
}

describe('planAppend', () => {
  it('numbers each user from its own last seq, in input order, with users interleaved', () => {
    const inputs = [item('alice'), item('bob'), item('alice'), item('carol'), item('bob'), item('alice')];
    const plan = planAppend(inputs, stored(inputs, { alice: 41, bob: 0, carol: 7 }), CREATED_AT);
    expect(numbered(plan.results)).toEqual([
      ['alice', 42],
      ['bob', 1],
      ['alice', 43],
      ['carol', 8],
      ['bob', 2],
      ['alice', 44],
    ]);
    expect([...plan.newLastSeqs]).toEqual([
      ['alice', 44],
      ['bob', 2],
      ['carol', 8],
    ]);
    expect(plan.eventRows.map((row) => [row.user_id, row.seq])).toEqual(numbered(plan.results));
  });

  it('keeps the first of a key repeated in the batch and numbers on without a gap', () => {
    const inputs = [item('alice', 'k1'), item('alice', 'k1'), item('alice', 'k2'), item('alice', 'k1')];
    const plan = planAppend(inputs, stored(inputs, { alice: 3 }), CREATED_AT);
    expect(numbered(plan.results)).toEqual([['alice', 4], null, ['alice', 5], null]);
    expect(plan.eventRows.map((row) => row.key)).toEqual(['k1', 'k2']);
    expect(plan.newLastSeqs).toEqual(new Map([['alice', 5]]));
  });

  it('skips a key its user has stored, and only for that user', () => {
    const inputs = [item('alice', 'k1'), item('bob', 'k1'), item('alice', 'k2'), item('alice', 'k1')];
    const state = stored(inputs, { alice: 10, bob: 2 }, { alice: ['k1'] });
    const plan = planAppend(inputs, state, CREATED_AT);
    expect(numbered(plan.results)).toEqual([null, ['bob', 3], ['alice', 11], null]);
    // The keys read are the appender's, not the plan's to change.
    expect(state.storedKeys).toEqual(new Map([['alice', new Set(['k1'])]]));
  });

  it('never skips a keyless item, whatever it repeats', () => {
    const inputs = [item('alice'), item('alice'), item('alice', 'k1'), item('alice')];
    const plan = planAppend(inputs, stored(inputs, {}, { alice: ['k1'] }), CREATED_AT);
    expect(numbered(plan.results)).toEqual([['alice', 1], ['alice', 2], null, ['alice', 3]]);
    expect(plan.eventRows.map((row) => row.key)).toEqual([null, null, null]);
  });

  it('plans nothing to write for a batch of repeats', () => {
    const inputs = [item('alice', 'k1', 'new_notification'), item('bob', 'k2'), item('alice', 'k1')];
    const plan = planAppend(inputs, stored(inputs, { alice: 5, bob: 9 }, { alice: ['k1'], bob: ['k2'] }), CREATED_AT);
    expect(plan.results).toEqual([null, null, null]);
    expect(plan.eventRows).toEqual([]);
    expect(plan.notificationRows).toEqual([]);
    expect(plan.newLastSeqs.size).toBe(0);
  });

  it('builds an inbox row for each new_notification only, with the batch timestamp everywhere', () => {
    const inputs = [item('alice', 'n1', 'new_notification'), item('alice', 't1'), item('bob', null, 'new_notification')];
    const plan = planAppend(inputs, stored(inputs), CREATED_AT);
    expect(plan.notificationRows.map((row) => [row.user_id, row.seq, row.key, row.status])).toEqual([
      ['alice', 1, 'n1', 'unread'],
      ['bob', 1, null, 'unread'],
    ]);
    expect(plan.results.map((event) => event?.createdAt)).toEqual([CREATED_AT, CREATED_AT, CREATED_AT]);
    expect([...plan.eventRows, ...plan.notificationRows].map((row) => row.created_at)).toEqual(Array(5).fill(CREATED_AT));
    expect(plan.results.map((event) => event?.type)).toEqual(['new_notification', 'task_update', 'new_notification']);
  });

  it('refuses to number a user whose last seq was not read', () => {
    const inputs = [item('alice'), item('bob')];
    const state: StoredState = { lastSeqs: new Map([['alice', 1]]), storedKeys: new Map() };
    expect(() => planAppend(inputs, state, CREATED_AT)).toThrow('append plan: no last seq was read for user "bob"');
  });

  it('plans an empty batch as nothing', () => {
    expect(planAppend([], stored([]), CREATED_AT)).toEqual({
      results: [],
      eventRows: [],
      notificationRows: [],
      newLastSeqs: new Map(),
    });
  });
});

describe('what an appender reads for a batch', () => {
  const inputs = [item('bob', 'k1'), item('alice'), item('bob', 'k1'), item('alice', 'k1'), item('bob', 'k2'), item('carol')];

  it('is each user once, in the order of their first input', () => {
    expect(batchUsers(inputs)).toEqual(['bob', 'alice', 'carol']);
  });

  it('is each (user, key) pair once, keyless inputs left out', () => {
    expect(batchKeys(inputs)).toEqual([
      ['bob', 'k1'],
      ['alice', 'k1'],
      ['bob', 'k2'],
    ]);
  });
});

describe('addKey', () => {
  it('adds a key once per user and tells whether it was new', () => {
    const keys = new Map<string, Set<string>>();
    expect([addKey(keys, 'alice', 'k1'), addKey(keys, 'alice', 'k1'), addKey(keys, 'bob', 'k1'), addKey(keys, 'alice', 'k2')]).toEqual([
      true,
      false,
      true,
      true,
    ]);
    expect(keys).toEqual(
      new Map([
        ['alice', new Set(['k1', 'k2'])],
        ['bob', new Set(['k1'])],
      ]),
    );
  });
});

import { describe, expect, it } from 'vitest';
import type { Appender, AppendResults } from '../../src/store/appender.js';
import { GroupCommit } from '../../src/store/group-commit.js';
import type { AppendInput, StoredEvent } from '../../src/store/store.js';
import { latch } from '../helpers/latch.js';

const item = (userId: string, key: string | null = null): AppendInput => ({
  userId,
  type: 'task_update',
  payload: { userId },
  key,
});

/**
 * A database stand-in behind the Appender seam: numbers each user's events, skips a key seen before, records
 * every transaction, and fails a whole transaction that contains a user named "poison".
 */
function recordingCommit(): { commit: Appender; transactions: AppendInput[][] } {
  const transactions: AppendInput[][] = [];
  const heads = new Map<string, number>();
  const keys = new Set<string>();
  const append = async (inputs: readonly AppendInput[]): Promise<AppendResults> => {
    transactions.push([...inputs]);
    if (inputs.some((input) => input.userId === 'poison')) throw new Error('poisoned transaction');
    return inputs.map((input): StoredEvent | null => {
      if (input.key !== null) {
        if (keys.has(`${input.userId}/${input.key}`)) return null;
        keys.add(`${input.userId}/${input.key}`);
      }
      const seq = (heads.get(input.userId) ?? 0) + 1;
      heads.set(input.userId, seq);
      return { userId: input.userId, seq, type: input.type, payload: input.payload, createdAt: '' };
    });
  };
  return { commit: { append }, transactions };
}

describe('GroupCommit', () => {
  it('commits the appends of one turn in one transaction and hands each caller exactly its own events', async () => {
    const { commit, transactions } = recordingCommit();
    const group = new GroupCommit(commit, 1000);
    const [a, b, c] = await Promise.all([
      group.append([item('alice'), item('bob')]),
      group.append([item('alice', 'k1'), item('alice', 'k1')]),
      group.append([item('carol')]),
    ]);
    expect(transactions).toHaveLength(1);
    expect(transactions[0]).toHaveLength(5);
    expect(a!.map((event) => [event?.userId, event?.seq])).toEqual([['alice', 1], ['bob', 1]]);
    // Each caller's results are aligned with its own inputs: the repeated key is a null in its caller's only.
    expect(b!.map((event) => event && [event.userId, event.seq])).toEqual([['alice', 2], null]);
    expect(c!.map((event) => [event?.userId, event?.seq])).toEqual([['carol', 1]]);
  });

  it('gathers appends that arrive during a commit into the next group', async () => {
    const transactions: number[] = [];
    const gate = latch();
    const append = async (inputs: readonly AppendInput[]): Promise<AppendResults> => {
      transactions.push(inputs.length);
      if (transactions.length === 1) await gate.reached;
      return inputs.map((input, index) => ({ userId: input.userId, seq: index + 1, type: input.type, payload: {}, createdAt: '' }));
    };
    const group = new GroupCommit({ append }, 1000);
    const first = group.append([item('a')]);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [group.append([item('b')]), group.append([item('c')]), group.append([item('d')])];
    // One commit at a time: nothing of the later appends reaches the database while the first is in flight.
    await new Promise((resolve) => setImmediate(resolve));
    expect(transactions).toEqual([1]);
    gate.open();
    await Promise.all([first, ...later]);
    expect(transactions).toEqual([1, 3]);
  });

  it('keeps a group within maxItems, but never splits one caller’s batch', async () => {
    const { commit, transactions } = recordingCommit();
    const group = new GroupCommit(commit, 3);
    const big = Array.from({ length: 5 }, (_, index) => item(`big-${index}`));
    await Promise.all([group.append([item('a'), item('b')]), group.append([item('c'), item('d')]), group.append(big)]);
    expect(transactions.map((inputs) => inputs.length)).toEqual([2, 2, 5]);
  });

  it('fills a group up to exactly maxItems and starts the next one after it', async () => {
    const { commit, transactions } = recordingCommit();
    const group = new GroupCommit(commit, 4);
    const pair = (name: string) => group.append([item(`${name}-1`), item(`${name}-2`)]);
    await Promise.all([pair('a'), pair('b'), pair('c'), pair('d'), pair('e')]);
    expect(transactions.map((inputs) => inputs.length)).toEqual([4, 4, 2]);
    expect(transactions.flat().map((input) => input.userId)).toEqual(['a-1', 'a-2', 'b-1', 'b-2', 'c-1', 'c-2', 'd-1', 'd-2', 'e-1', 'e-2']);
  });

  it('retries each batch of a failed group alone, so only the failing caller sees the error', async () => {
    const { commit, transactions } = recordingCommit();
    const group = new GroupCommit(commit, 1000);
    const results = await Promise.allSettled([
      group.append([item('alice')]),
      group.append([item('poison'), item('bob')]),
      group.append([item('carol')]),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('poisoned transaction'));
    // The shared attempt, then each batch alone; the failed shared attempt stored nothing, so seqs start at 1.
    expect(transactions.map((inputs) => inputs.map((input) => input.userId))).toEqual([
      ['alice', 'poison', 'bob', 'carol'],
      ['alice'],
      ['poison', 'bob'],
      ['carol'],
    ]);
    expect((results[0] as PromiseFulfilledResult<AppendResults>).value[0]!.seq).toBe(1);
  });

  it('answers an empty batch at once without a transaction', async () => {
    const { commit, transactions } = recordingCommit();
    await expect(new GroupCommit(commit, 10).append([])).resolves.toEqual([]);
    expect(transactions).toHaveLength(0);
  });
});

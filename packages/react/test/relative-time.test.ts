import { describe, expect, it } from 'vitest';
import { relativeTime } from '../../../apps/inbox/src/relative-time.js';

const NOW = Date.UTC(2026, 5, 10, 12, 0, 0);
const ago = (ms: number) => relativeTime(NOW - ms, NOW);
const MINUTE = 60_000;

describe("the inbox page's relative times", () => {
  it.each([
    [0, 'just now'],
    [-30_000, 'just now'],
    [59_999, 'just now'],
    [MINUTE, '1 min ago'],
    [2 * MINUTE + 59_000, '2 min ago'],
    [59 * MINUTE, '59 min ago'],
    [60 * MINUTE, '1 h ago'],
    [23 * 60 * MINUTE + 59 * MINUTE, '23 h ago'],
    [24 * 60 * MINUTE, 'yesterday'],
    [3 * 24 * 60 * MINUTE, '3 days ago'],
  ])('says %i ms ago as "%s"', (ms, text) => {
    expect(ago(ms)).toBe(text);
  });

  it('gives the date from a week on', () => {
    expect(ago(7 * 24 * 60 * MINUTE)).toMatch(/2026/);
  });
});

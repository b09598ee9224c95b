import Type from 'typebox';
import { Compile } from 'typebox/compile';
import { fail, ok, type Result } from '../result.js';

/**
 * Where a client's replay starts: the last seq it has. One schema for `?since=` on the upgrade and for the
 * `resume` frame, so that both doors take the same values.
 */
export const Since = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

const CheckSince = Compile(Since);

/** The `since` query values of an upgrade: none (start at the head), or one non-negative integer. */
export function sinceFromQuery(values: readonly string[]): Result<number | undefined> {
  // Two values would leave the replay's start to whichever one a reader picks.
  if (values.length > 1) return fail('since must be given once');
  const [text] = values;
  if (text === undefined) return ok(undefined);
  // Digits only: Number() would also take "1e3", " 7", "0x10" and "".
  const since = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  return CheckSince.Check(since) ? ok(since) : fail('since must be a non-negative integer');
}

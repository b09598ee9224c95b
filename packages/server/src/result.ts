/**
 * The one shape of an outcome that can fail without throwing (a decoded frame, record or item, an admission):
 * `value` when it worked, `error` (a message, or a typed refusal) when it did not. One shape keeps callers'
 * field names from drifting apart.
 */
export type Result<T, E = string> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function fail<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}

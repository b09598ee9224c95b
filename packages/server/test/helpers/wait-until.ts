/**
 * Resolves once `check` returns true, polling every few milliseconds; rejects with `what` after `timeoutMs`.
 * For state that changes on the server after an event the client already saw (a closed tab leaving the hub).
 */
export async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A promise that a test settles by hand: `reached` resolves once `open()` is called. */
export interface Latch {
  reached: Promise<void>;
  open(): void;
}

export function latch(): Latch {
  const { promise: reached, resolve } = Promise.withResolvers<void>();
  return { reached, open: () => resolve() };
}

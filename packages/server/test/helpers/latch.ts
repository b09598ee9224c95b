/** A promise that a test settles by hand: `reached` resolves once `open()` is called. */
export interface Latch {
  reached: Promise<void>;
  open(): void;
}

export function latch(): Latch {
  let open!: () => void;
  const reached = new Promise<void>((resolve) => (open = resolve));
  return { reached, open };
}

/** Splits a list into runs of at most `size`, for statements that take one bound parameter (or row) per item. */
export function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}

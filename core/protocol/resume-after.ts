/** The bounds of a key range (Uint8Array on the wire, Buffer in a store). */
export interface ResumableBounds<K> {
  gt?: K;
  gte?: K;
  lt?: K;
  lte?: K;
}

/**
 * `bounds` narrowed to continue strictly after `last` in scan order: the lower bound becomes
 * exclusive at `last` (the upper one when `reverse`), the other bound stays. Every paged read
 * (scans and their read-ahead, counts, range deletes, index lookups, procedure pages) resumes this
 * way, so a page never repeats or skips the key it ended on. A copy: `bounds` is not changed.
 */
export function resumeAfter<B extends ResumableBounds<Uint8Array>>(bounds: B, last: Uint8Array, reverse = false): B {
  const next = { ...bounds };
  if (reverse) {
    delete next.lte;
    next.lt = last;
  } else {
    delete next.gte;
    next.gt = last;
  }
  return next;
}

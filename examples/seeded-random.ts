/**
 * Unsigned 32-bit integers from mulberry32 (32-bit state, fast, every bit well mixed): the one
 * seeded generator of the examples, the benches and the tests, so a run does the same work, and
 * a test sees the same cases, from its seed alone.
 */
export function seededUint32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Uniform numbers in [0, 1) from seededUint32. */
export function seededRandom(seed: number): () => number {
  const next = seededUint32(seed);
  return () => next() / 4294967296;
}

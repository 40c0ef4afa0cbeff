// Seeded pseudo-random numbers. Every stochastic choice in the MD engine (starting cluster,
// velocities, Langevin noise) draws from these, so a run is reproducible from its seed alone;
// Math.random is never used.

export { seededRandom } from '../../seeded-random.js';

/** Standard normal numbers (Box-Muller); the second number of each pair is cached for the next call. */
export function gaussian(random: () => number): () => number {
  let spare = 0;
  let hasSpare = false;
  return () => {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    // 1 - u is in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - random()));
    const angle = 2 * Math.PI * random();
    spare = radius * Math.sin(angle);
    hasSpare = true;
    return radius * Math.cos(angle);
  };
}

/**
 * A well-mixed 32-bit seed for sub-stream `stream` of `seed` (splitmix-style finalizer), so that
 * the velocities and the Langevin noise of one segment, or segments with neighbouring seeds, do not
 * share correlated mulberry32 sequences.
 */
export function deriveSeed(seed: number, stream: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(stream >>> 0, 0x85ebca6b) + 0x632be5ab) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d);
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b);
  return (z ^ (z >>> 16)) >>> 0;
}

// Starting structures: the `atoms` sites of an fcc lattice (nearest-neighbour distance 2^(1/6),
// LJ's pair minimum) nearest to a seeded random point, jittered a little and minimized. That is a
// compact, crystalline chunk whose shape depends on the seed; dynamics then anneals it.

import { minimize, type MinimizeResult } from './minimize.js';
import { deriveSeed, seededRandom } from './random.js';

/** fcc cubic cell edge: nearest neighbours at a / sqrt(2) = 2^(1/6). */
const FCC_CELL = Math.SQRT2 * 2 ** (1 / 6);
/** Jitter of each coordinate (sigma), enough to break the lattice symmetry before minimizing. */
const JITTER = 0.05;

/** A compact starting cluster of `atoms` atoms (deterministic from seed), already minimized. */
export function initialCluster(atoms: number, seed: number): MinimizeResult {
  if (!Number.isInteger(atoms) || atoms < 2) throw new RangeError(`atoms must be an integer >= 2, got ${atoms}`);
  const random = seededRandom(deriveSeed(seed, 0x636c7573));
  // The chunk is centred on a random point of the cell, so different seeds cut different shapes.
  const centre = [random() * FCC_CELL, random() * FCC_CELL, random() * FCC_CELL] as const;
  const basis = [
    [0, 0, 0],
    [0.5, 0.5, 0],
    [0.5, 0, 0.5],
    [0, 0.5, 0.5],
  ] as const;
  const cells = Math.ceil(Math.cbrt(atoms / 4) / 2) + 2;
  const sites: { x: number; y: number; z: number; d2: number }[] = [];
  for (let i = -cells; i <= cells; i++) {
    for (let j = -cells; j <= cells; j++) {
      for (let k = -cells; k <= cells; k++) {
        for (const [bx, by, bz] of basis) {
          const x = (i + bx) * FCC_CELL - centre[0];
          const y = (j + by) * FCC_CELL - centre[1];
          const z = (k + bz) * FCC_CELL - centre[2];
          sites.push({ x, y, z, d2: x * x + y * y + z * z });
        }
      }
    }
  }
  // Ties in distance are broken by coordinates, so the choice never depends on sort stability.
  sites.sort((a, b) => a.d2 - b.d2 || a.x - b.x || a.y - b.y || a.z - b.z);
  const positions = new Float64Array(3 * atoms);
  for (let a = 0; a < atoms; a++) {
    const site = sites[a]!;
    positions[3 * a] = site.x + JITTER * (2 * random() - 1);
    positions[3 * a + 1] = site.y + JITTER * (2 * random() - 1);
    positions[3 * a + 2] = site.z + JITTER * (2 * random() - 1);
  }
  const result = minimize(positions);
  if (!result.converged) throw new Error(`initial cluster did not minimize (max force ${result.gradientNorm})`);
  return result;
}

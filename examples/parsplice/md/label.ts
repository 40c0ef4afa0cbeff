// State labels: which basin (local minimum) a minimized structure is, as a short string that
// ParSplice can use as a key. Only quantities that are invariant under translation, rotation,
// reflection and permutation of atoms go in:
//
//   - the energy, rounded to ENERGY_DIGITS = 6 decimals (1e-6 epsilon). Minimized to a max force
//     of 1e-8 (DEFAULT_FORCE_TOLERANCE), the energy left above the true minimum is ~f^2/curvature,
//     < 1e-12, and the same basin reached from different MD snapshots reproduces its energy to
//     ~1e-11 (measured: <= 2.2e-12 over 180 re-quenches), so a rounding boundary splits a basin for
//     ~1 structure in 10^5. 1e-6 still separates distinct minima found 2.8e-6 apart.
//   - the coordination histogram: how many atoms have k neighbours closer than CONTACT_DISTANCE =
//     1.35 sigma, which lies in the gap between the first (1.05-1.2) and second (1.45-1.6)
//     neighbour shells of LJ minima. It separates distinct minima of (nearly) equal energy; a
//     minimized distance is reproducible to ~1e-7, and few distances lie near 1.35.
//
// Sorted pair distances rounded at any useful precision were rejected: with 2775 of them, some
// distance sits near a rounding boundary in most structures, so minimizer noise would split one
// basin into several labels.

import { createHash } from 'node:crypto';

/** Decimal digits of the energy that enter the label. */
export const ENERGY_DIGITS = 6;
/** Neighbour cutoff (sigma) of the coordination histogram. */
export const CONTACT_DISTANCE = 1.35;
/** Hex characters kept of the sha256 (128 bits: collisions are not a concern). */
const LABEL_HEX = 32;

/** The label of a minimized structure: 32 hex characters of a sha256 of its invariants. */
export function stateLabel(minimized: Float64Array, energy: number): string {
  return createHash('sha256').update(labelText(minimized, energy)).digest('hex').slice(0, LABEL_HEX);
}

/** The text that stateLabel hashes, readable for debugging: "lj75 e=-388120831 c=0:0,...". */
export function labelText(minimized: Float64Array, energy: number): string {
  if (!Number.isFinite(energy)) throw new RangeError(`energy must be finite, got ${energy}`);
  const atoms = minimized.length / 3;
  const counts = coordination(minimized);
  const histogram = new Map<number, number>();
  for (const count of counts) histogram.set(count, (histogram.get(count) ?? 0) + 1);
  const bins = [...histogram.entries()].sort((a, b) => a[0] - b[0]).map(([k, n]) => `${k}:${n}`);
  // Math.round of the scaled energy, not toFixed, so -0 and binary-to-decimal quirks cannot differ.
  const scaled = Math.round(energy * 10 ** ENERGY_DIGITS);
  return `lj${atoms} e=${scaled === 0 ? 0 : scaled} c=${bins.join(',')}`;
}

/** Neighbours of each atom closer than CONTACT_DISTANCE. */
function coordination(positions: Float64Array): Uint16Array {
  const atoms = positions.length / 3;
  const counts = new Uint16Array(atoms);
  const cutoff2 = CONTACT_DISTANCE * CONTACT_DISTANCE;
  for (let i = 0; i < atoms; i++) {
    for (let j = i + 1; j < atoms; j++) {
      const dx = positions[3 * i]! - positions[3 * j]!;
      const dy = positions[3 * i + 1]! - positions[3 * j + 1]!;
      const dz = positions[3 * i + 2]! - positions[3 * j + 2]!;
      if (dx * dx + dy * dy + dz * dz < cutoff2) {
        counts[i]!++;
        counts[j]!++;
      }
    }
  }
  return counts;
}

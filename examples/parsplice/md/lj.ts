// Lennard-Jones pair potential in reduced units (epsilon = sigma = mass = 1):
//   V(r) = 4 (r^-12 - r^-6),  minimum -1 at r = 2^(1/6).
// All pairs, no cutoff: a 75-atom cluster has 2775 pairs, cheap enough that a cutoff (and the
// discontinuity it brings into energies and labels) is not worth it.

/**
 * Total LJ energy of a cluster (all pairs, no cutoff); forces (minus the gradient) are written
 * into `forces` (length 3N, overwritten, not accumulated).
 */
export function ljEnergyForces(positions: Float64Array, forces: Float64Array): number {
  const n = positions.length / 3;
  forces.fill(0);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const xi = positions[3 * i]!;
    const yi = positions[3 * i + 1]!;
    const zi = positions[3 * i + 2]!;
    let fxi = 0;
    let fyi = 0;
    let fzi = 0;
    for (let j = i + 1; j < n; j++) {
      const dx = xi - positions[3 * j]!;
      const dy = yi - positions[3 * j + 1]!;
      const dz = zi - positions[3 * j + 2]!;
      const inv2 = 1 / (dx * dx + dy * dy + dz * dz);
      const inv6 = inv2 * inv2 * inv2;
      sum += inv6 * (inv6 - 1);
      // -dV/dr / r = 24 r^-2 (2 r^-12 - r^-6)
      const scale = 24 * inv2 * inv6 * (2 * inv6 - 1);
      const fx = scale * dx;
      const fy = scale * dy;
      const fz = scale * dz;
      fxi += fx;
      fyi += fy;
      fzi += fz;
      forces[3 * j] = forces[3 * j]! - fx;
      forces[3 * j + 1] = forces[3 * j + 1]! - fy;
      forces[3 * j + 2] = forces[3 * j + 2]! - fz;
    }
    forces[3 * i] = forces[3 * i]! + fxi;
    forces[3 * i + 1] = forces[3 * i + 1]! + fyi;
    forces[3 * i + 2] = forces[3 * i + 2]! + fzi;
  }
  return 4 * sum;
}

/**
 * Total LJ energy of a cluster (all pairs, no cutoff), without forces to keep: nothing on a hot
 * path needs it (the dynamics and the minimizer want forces too), so it is the one pair loop above.
 */
export function ljEnergy(positions: Float64Array): number {
  return ljEnergyForces(positions, new Float64Array(positions.length));
}

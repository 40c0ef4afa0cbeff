// A soft spherical container centred on the cluster's centre of mass, so that an atom that
// evaporates at a high temperature is pushed back instead of flying away (an evaporated atom
// would make every later minimum a "cluster plus far-away atom" state).
//
//   E_wall = sum_i (k/2) (d_i - R)^2   for d_i = |x_i - c| > R,  c = centre of mass
//
// The radius leaves two atomic diameters of room around the estimated cluster radius, so the
// wall is exactly zero for bound structures: it never changes a minimum or its energy, it only
// catches atoms that have left. Centring on the centre of mass (with the exact gradient, which
// includes the dependence of c on every atom) keeps total force zero, so momentum is conserved
// and a free cluster may drift without meeting the wall.

/** Wall stiffness k, in epsilon / sigma^2: soft next to LJ's ~57 curvature, yet a kT of 0.3 only penetrates ~0.25 sigma. */
export const CONTAINER_STIFFNESS = 10;

/** Number density (sigma^-3) used to estimate the radius of a compact cluster. */
const CLUSTER_DENSITY = 0.9;

/** Room (sigma) between the estimated cluster surface and the wall: an adatom sits ~1 sigma out. */
const CONTAINER_MARGIN = 2;

/** The default container radius (sigma) for a cluster of `atoms` atoms; 4.7 for 75. */
export function containerRadius(atoms: number): number {
  return Math.cbrt((3 * atoms) / (4 * Math.PI * CLUSTER_DENSITY)) + CONTAINER_MARGIN;
}

/**
 * Adds the container forces into `forces` (accumulates) and returns the container energy.
 * `radius` Infinity (or <= 0) disables the container.
 */
export function addContainerEnergyForces(positions: Float64Array, forces: Float64Array, radius: number): number {
  if (!(radius > 0) || radius === Infinity) return 0;
  const n = positions.length / 3;
  let cx = 0;
  let cy = 0;
  let cz = 0;
  for (let i = 0; i < n; i++) {
    cx += positions[3 * i]!;
    cy += positions[3 * i + 1]!;
    cz += positions[3 * i + 2]!;
  }
  cx /= n;
  cy /= n;
  cz /= n;
  const radius2 = radius * radius;
  let energy = 0;
  // Sum of the per-atom gradients: each atom's wall term also moves c, which spreads -mean(g)
  // over every atom.
  let gx = 0;
  let gy = 0;
  let gz = 0;
  for (let i = 0; i < n; i++) {
    const dx = positions[3 * i]! - cx;
    const dy = positions[3 * i + 1]! - cy;
    const dz = positions[3 * i + 2]! - cz;
    const d2 = dx * dx + dy * dy + dz * dz;
    if (d2 <= radius2) continue;
    const d = Math.sqrt(d2);
    const excess = d - radius;
    energy += 0.5 * CONTAINER_STIFFNESS * excess * excess;
    const scale = (CONTAINER_STIFFNESS * excess) / d;
    const ex = scale * dx;
    const ey = scale * dy;
    const ez = scale * dz;
    forces[3 * i] = forces[3 * i]! - ex;
    forces[3 * i + 1] = forces[3 * i + 1]! - ey;
    forces[3 * i + 2] = forces[3 * i + 2]! - ez;
    gx += ex;
    gy += ey;
    gz += ez;
  }
  if (energy === 0) return 0;
  gx /= n;
  gy /= n;
  gz /= n;
  for (let i = 0; i < n; i++) {
    forces[3 * i] = forces[3 * i]! + gx;
    forces[3 * i + 1] = forces[3 * i + 1]! + gy;
    forces[3 * i + 2] = forces[3 * i + 2]! + gz;
  }
  return energy;
}

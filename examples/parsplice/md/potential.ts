// The potential both the dynamics and the minimizer use: LJ plus the soft container. One function
// for both, so that a minimum of the minimizer is a stationary point of the dynamics' potential.

import { addContainerEnergyForces } from './container.js';
import { ljEnergyForces } from './lj.js';

/** LJ energy plus container energy (zero for a bound cluster); forces overwritten into `forces`. */
export function potentialEnergyForces(positions: Float64Array, forces: Float64Array, containerRadius: number): number {
  return ljEnergyForces(positions, forces) + addContainerEnergyForces(positions, forces, containerRadius);
}

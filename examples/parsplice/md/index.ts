// The MD engine's public surface in one import, for the ParSplice demo.
export { initialCluster } from './cluster.js';
export { containerRadius, CONTAINER_STIFFNESS } from './container.js';
export { DEFAULT_ATOMS, DEFAULT_SEGMENT } from './defaults.js';
export { initialVelocities, kineticEnergy, LangevinIntegrator, type LangevinOptions, type MdState } from './integrate.js';
export { CONTACT_DISTANCE, ENERGY_DIGITS, labelText, stateLabel } from './label.js';
export { ljEnergy, ljEnergyForces } from './lj.js';
export { DEFAULT_FORCE_TOLERANCE, minimize, type MinimizeOptions, type MinimizeResult } from './minimize.js';
export { potentialEnergyForces } from './potential.js';
export { deriveSeed, gaussian, seededRandom } from './random.js';
export { runSegment, type SegmentOptions, type SegmentResult } from './segment.js';
export { positionsOf, toStoredState, type StoredState } from './state-codec.js';

// Langevin dynamics with the BAOAB splitting (Leimkuhler & Matthews): half kick (B), half drift
// (A), exact Ornstein-Uhlenbeck velocity update (O), half drift, half kick. BAOAB samples
// configurations accurately at large time steps, and with friction 0 the O step is the identity,
// leaving B A A B: plain velocity Verlet (NVE), which the energy-drift test checks.
// Mass 1, k_B 1: velocities are momenta and kT is `temperature`.

import { containerRadius } from './container.js';
import { potentialEnergyForces } from './potential.js';
import { deriveSeed, gaussian, seededRandom } from './random.js';

export interface MdState {
  /** 3N coordinates, x0 y0 z0 x1 ... */
  positions: Float64Array;
  /** 3N velocities. */
  velocities: Float64Array;
}

export interface LangevinOptions {
  /** Time step in reduced units (sigma sqrt(m / epsilon)). */
  dt: number;
  /** kT in epsilon. */
  temperature: number;
  /** Friction gamma in 1 / reduced time; 0 gives NVE velocity Verlet. */
  friction: number;
  /** Seeds the Langevin noise; the same seed and state give the same trajectory. */
  seed: number;
  /** Container radius (sigma); default containerRadius(atoms), Infinity for a free cluster. */
  containerRadius?: number;
}

export class LangevinIntegrator {
  private readonly forces: Float64Array;
  private readonly normal: () => number;
  private readonly dt: number;
  /** Velocity decay per O step, exp(-gamma dt). */
  private readonly decay: number;
  /** Noise amplitude per O step, sqrt(kT (1 - decay^2)), so the O step keeps the Maxwell distribution. */
  private readonly kick: number;
  private readonly radius: number;

  constructor(
    private readonly atoms: number,
    options: LangevinOptions,
  ) {
    if (!(options.dt > 0)) throw new RangeError(`dt must be positive, got ${options.dt}`);
    if (!(options.friction >= 0)) throw new RangeError(`friction must be >= 0, got ${options.friction}`);
    if (!(options.temperature >= 0)) throw new RangeError(`temperature must be >= 0, got ${options.temperature}`);
    this.forces = new Float64Array(3 * atoms);
    this.normal = gaussian(seededRandom(deriveSeed(options.seed, 0x6e6f6973)));
    this.dt = options.dt;
    this.decay = Math.exp(-options.friction * options.dt);
    this.kick = Math.sqrt(options.temperature * (1 - this.decay * this.decay));
    this.radius = options.containerRadius ?? containerRadius(atoms);
  }

  /**
   * Advances `state` by `steps` steps in place and returns the potential energy at the end. The
   * forces are recomputed from the positions on entry (one extra evaluation per call), so a call
   * may be given any state; the noise stream continues across calls.
   */
  step(state: MdState, steps: number): number {
    const { positions, velocities } = state;
    const length = 3 * this.atoms;
    if (positions.length !== length || velocities.length !== length) {
      throw new RangeError(`state must hold ${length} positions and velocities`);
    }
    const forces = this.forces;
    const dt = this.dt;
    const halfDt = 0.5 * dt;
    const decay = this.decay;
    const kick = this.kick;
    const thermostat = decay !== 1;
    let energy = potentialEnergyForces(positions, forces, this.radius);
    for (let s = 0; s < steps; s++) {
      for (let k = 0; k < length; k++) {
        // B then A
        const v = velocities[k]! + halfDt * forces[k]!;
        velocities[k] = v;
        positions[k] = positions[k]! + halfDt * v;
      }
      if (thermostat) {
        for (let k = 0; k < length; k++) velocities[k] = decay * velocities[k]! + kick * this.normal();
      }
      for (let k = 0; k < length; k++) positions[k] = positions[k]! + halfDt * velocities[k]!;
      energy = potentialEnergyForces(positions, forces, this.radius);
      for (let k = 0; k < length; k++) velocities[k] = velocities[k]! + halfDt * forces[k]!;
    }
    return energy;
  }
}

/** Kinetic energy sum v^2 / 2 (mass 1). */
export function kineticEnergy(velocities: Float64Array): number {
  let sum = 0;
  for (let k = 0; k < velocities.length; k++) sum += velocities[k]! * velocities[k]!;
  return 0.5 * sum;
}

/**
 * Maxwell-Boltzmann velocities at `temperature` with zero total momentum, rescaled so the kinetic
 * energy is exactly (3N - 3) kT / 2 (three degrees of freedom go to the removed momentum): the
 * segment starts at its temperature whatever the sample.
 */
export function initialVelocities(atoms: number, temperature: number, seed: number): Float64Array {
  const normal = gaussian(seededRandom(deriveSeed(seed, 0x76656c6f)));
  const velocities = new Float64Array(3 * atoms);
  for (let k = 0; k < velocities.length; k++) velocities[k] = normal();
  for (let axis = 0; axis < 3; axis++) {
    let mean = 0;
    for (let i = 0; i < atoms; i++) mean += velocities[3 * i + axis]!;
    mean /= atoms;
    for (let i = 0; i < atoms; i++) velocities[3 * i + axis] = velocities[3 * i + axis]! - mean;
  }
  const kinetic = kineticEnergy(velocities);
  const target = (0.5 * (3 * atoms - 3)) * temperature;
  const scale = kinetic > 0 ? Math.sqrt(target / kinetic) : 0;
  for (let k = 0; k < velocities.length; k++) velocities[k] = velocities[k]! * scale;
  return velocities;
}

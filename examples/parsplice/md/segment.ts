// One ParSplice segment: a stretch of Langevin MD from a state's minimized structure, watched by
// periodic quenches (minimizing a copy) that tell which basin the trajectory is in. The dynamics
// itself never sees the quenches.

import { initialVelocities, LangevinIntegrator, type MdState } from './integrate.js';
import { minimize, type MinimizeResult } from './minimize.js';
import { stateLabel } from './label.js';

export interface SegmentOptions {
  /** MD steps in the segment. */
  steps: number;
  /** Time step (reduced units). */
  dt: number;
  /** kT (epsilon): both the starting velocities and the thermostat. */
  temperature: number;
  /** Langevin friction (1 / reduced time). */
  friction: number;
  /** Seeds the starting velocities and the noise; same seed and start, same segment. */
  seed: number;
  /** Minimize a copy every this many steps to see whether the state changed; the end is always checked. */
  checkEvery: number;
}

export interface SegmentResult {
  /** The state at the end of the segment: its minimized structure, energy and label (may equal the start label). */
  endLabel: string;
  endEnergy: number;
  endMinimized: Float64Array;
  /** The raw MD positions/velocities at the end (not needed by callers that restart from the minimum). */
  final: MdState;
  steps: number;
  /** Label changes seen at the checks (0 when it never left the start basin). */
  transitions: number;
}

/**
 * A quench is allowed many more iterations than any observed (~4000 for a molten snapshot): an
 * unconverged quench would give a label that names no basin, so it is an error, not a result.
 */
const QUENCH_STEPS_MAX = 100_000;

/**
 * Runs one ParSplice segment from a minimized start structure: fresh velocities at `temperature`
 * (from seed), Langevin MD for `steps`, minimization every `checkEvery` steps and at the end; the
 * end state is the basin at the end.
 */
export function runSegment(startMinimized: Float64Array, startLabel: string, options: SegmentOptions): SegmentResult {
  const { steps, checkEvery } = options;
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be a positive integer, got ${steps}`);
  if (!Number.isInteger(checkEvery) || checkEvery < 1) throw new RangeError(`checkEvery must be a positive integer, got ${checkEvery}`);
  if (startMinimized.length % 3 !== 0) throw new RangeError(`positions length ${startMinimized.length} is not a multiple of 3`);
  const atoms = startMinimized.length / 3;
  const state: MdState = {
    positions: Float64Array.from(startMinimized),
    velocities: initialVelocities(atoms, options.temperature, options.seed),
  };
  const integrator = new LangevinIntegrator(atoms, {
    dt: options.dt,
    temperature: options.temperature,
    friction: options.friction,
    seed: options.seed,
  });
  let label = startLabel;
  let transitions = 0;
  let done = 0;
  let quenched: MinimizeResult | undefined;
  while (done < steps) {
    const chunk = Math.min(checkEvery, steps - done);
    integrator.step(state, chunk);
    done += chunk;
    quenched = quench(state.positions);
    const next = stateLabel(quenched.positions, quenched.energy);
    if (next !== label) {
      transitions++;
      label = next;
    }
  }
  // steps >= 1, so the loop ran and the last quench is the end of the segment.
  const end = quenched!;
  return { endLabel: label, endEnergy: end.energy, endMinimized: end.positions, final: state, steps: done, transitions };
}

function quench(positions: Float64Array): MinimizeResult {
  const result = minimize(positions, { stepsMax: QUENCH_STEPS_MAX });
  if (!result.converged) {
    throw new Error(`quench did not converge in ${result.steps} steps (max force ${result.gradientNorm})`);
  }
  return result;
}

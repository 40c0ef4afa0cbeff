// Energy minimization by FIRE (Bitzek et al. 2006), in the FIRE 2.0 form of Guenole et al. 2020:
// semi-implicit Euler steps, half a step back and a velocity reset when the power F.v turns
// negative. FIRE only needs forces and tolerates the hot, strained structures MD hands it; it
// moves in small damped steps, so it is less apt than a long line-search step to jump over a ridge
// into another basin, and a cap on the per-step displacement keeps the first steps from a hot
// snapshot inside the basin it started in.

import { containerRadius } from './container.js';
import { potentialEnergyForces } from './potential.js';

export interface MinimizeResult {
  /** The minimized structure (a new array; the input is not changed). */
  positions: Float64Array;
  /** Potential energy (LJ plus container, which is zero for a bound cluster) at `positions`. */
  energy: number;
  /** The largest |force component| at `positions` (a max norm, not RMS). */
  gradientNorm: number;
  /** FIRE iterations taken (one force evaluation each). */
  steps: number;
  /** gradientNorm <= forceTolerance was reached within stepsMax. */
  converged: boolean;
}

export interface MinimizeOptions {
  /** Stop when the largest |force component| is at most this (epsilon / sigma); default 1e-8 (DEFAULT_FORCE_TOLERANCE). */
  forceTolerance?: number;
  /** Iteration cap; default 20000. */
  stepsMax?: number;
  /** Container radius (sigma); default containerRadius(atoms), Infinity for none. */
  containerRadius?: number;
}

/**
 * Default force tolerance (max |force component|). Tight on purpose: the energy left above the
 * minimum by a residual force f is about |f|^2 / (2 curvature), < 1e-12 here, far below the 1e-6
 * rounding of the state label; FIRE converges linearly near a minimum, so going from 1e-6 to 1e-8
 * costs only ~55 more iterations (213 -> 267 on average for T = 0.12 snapshots).
 */
export const DEFAULT_FORCE_TOLERANCE = 1e-8;

// FIRE 2.0 parameters. The largest Hessian eigenvalue of an LJ75 minimum is ~630, so explicit
// Euler is stable up to dt ~ 2 / sqrt(630) = 0.08: DT_MAX; a step that overshoots anyway turns the
// power negative and FIRE backs off.
const DT_START = 0.02;
const DT_MAX = 0.08;
const DT_MIN = 0.001;
const N_DELAY = 5;
const F_INC = 1.1;
const F_DEC = 0.5;
const ALPHA_START = 0.1;
const F_ALPHA = 0.99;
/** Largest move of one coordinate in one step (sigma): keeps the descent in the starting basin. */
const STEP_MAX = 0.05;

/** FIRE minimization of the LJ-plus-container potential. Does not mutate `positions`. */
export function minimize(positions: Float64Array, options: MinimizeOptions = {}): MinimizeResult {
  const tolerance = options.forceTolerance ?? DEFAULT_FORCE_TOLERANCE;
  const stepsMax = options.stepsMax ?? 20_000;
  const length = positions.length;
  const radius = options.containerRadius ?? containerRadius(length / 3);
  const x = Float64Array.from(positions);
  const v = new Float64Array(length);
  const f = new Float64Array(length);
  let energy = potentialEnergyForces(x, f, radius);
  let dt = DT_START;
  let alpha = ALPHA_START;
  let positiveSteps = 0;
  let steps = 0;
  let fMax = maxAbs(f);
  while (fMax > tolerance && steps < stepsMax) {
    let power = 0;
    for (let k = 0; k < length; k++) power += f[k]! * v[k]!;
    if (power > 0) {
      positiveSteps++;
      if (positiveSteps > N_DELAY) {
        dt = Math.min(dt * F_INC, DT_MAX);
        alpha *= F_ALPHA;
      }
    } else {
      // Uphill: step half back, stop, and restart carefully.
      positiveSteps = 0;
      dt = Math.max(dt * F_DEC, DT_MIN);
      alpha = ALPHA_START;
      for (let k = 0; k < length; k++) {
        x[k] = x[k]! - 0.5 * dt * v[k]!;
        v[k] = 0;
      }
    }
    // Semi-implicit Euler: velocity first, then the FIRE mix towards the force direction.
    let vNorm2 = 0;
    let fNorm2 = 0;
    for (let k = 0; k < length; k++) {
      const vk = v[k]! + dt * f[k]!;
      v[k] = vk;
      vNorm2 += vk * vk;
      fNorm2 += f[k]! * f[k]!;
    }
    if (power > 0 && fNorm2 > 0) {
      const mix = (alpha * Math.sqrt(vNorm2)) / Math.sqrt(fNorm2);
      for (let k = 0; k < length; k++) v[k] = (1 - alpha) * v[k]! + mix * f[k]!;
    }
    const vMax = maxAbs(v);
    if (vMax * dt > STEP_MAX) {
      const scale = STEP_MAX / (vMax * dt);
      for (let k = 0; k < length; k++) v[k] = v[k]! * scale;
    }
    for (let k = 0; k < length; k++) x[k] = x[k]! + dt * v[k]!;
    energy = potentialEnergyForces(x, f, radius);
    fMax = maxAbs(f);
    steps++;
  }
  return { positions: x, energy, gradientNorm: fMax, steps, converged: fMax <= tolerance };
}

function maxAbs(values: Float64Array): number {
  let max = 0;
  for (let k = 0; k < values.length; k++) {
    const a = Math.abs(values[k]!);
    if (a > max) max = a;
  }
  return max;
}

// Default system and segment parameters for the ParSplice demo; the figures behind the choices
// are in README.md (measured with measure.ts).

import type { SegmentOptions } from './segment.js';

/** LJ75: 225 float64 coordinates, 1800 bytes of positions per state. */
export const DEFAULT_ATOMS = 75;

export const DEFAULT_SEGMENT: Omit<SegmentOptions, 'seed'> = {
  steps: 2000,
  dt: 0.005,
  temperature: 0.12,
  friction: 1,
  checkEvery: 500,
};

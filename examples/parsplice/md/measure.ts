// Measures the figures README.md quotes: force and MD step cost, and, per temperature, segment
// time, quench cost and how often segments change state along a spliced (serial) trajectory in
// which each segment starts from the previous segment's end minimum.
// Run: node dist/examples/parsplice/md/measure.js [segments=200] [T1,T2,...=default]

import { pack } from 'msgpackr';
import { initialCluster } from './cluster.js';
import { containerRadius } from './container.js';
import { DEFAULT_ATOMS, DEFAULT_SEGMENT } from './defaults.js';
import { initialVelocities, LangevinIntegrator } from './integrate.js';
import { stateLabel } from './label.js';
import { ljEnergyForces } from './lj.js';
import { minimize } from './minimize.js';
import { runSegment } from './segment.js';
import { toStoredState } from './state-codec.js';

const segments = Number(process.argv[2] ?? 200);
const temperatures = (process.argv[3] ?? `${DEFAULT_SEGMENT.temperature}`).split(',').map(Number);
const atoms = DEFAULT_ATOMS;
const start = initialCluster(atoms, 1);
const startLabel = stateLabel(start.positions, start.energy);
const stored = toStoredState(startLabel, start.energy, start.positions);
console.log(
  `LJ${atoms}: start energy ${start.energy.toFixed(6)}, ${stored.positions.byteLength} bytes of positions, ` +
    `${pack(stored).length} bytes msgpack-encoded`,
);

{
  const forces = new Float64Array(3 * atoms);
  for (let i = 0; i < 2000; i++) ljEnergyForces(start.positions, forces);
  const t0 = performance.now();
  for (let i = 0; i < 10_000; i++) ljEnergyForces(start.positions, forces);
  console.log(`LJ energy + forces: ${((performance.now() - t0) / 10).toFixed(1)} us`);
}
for (const friction of [0, DEFAULT_SEGMENT.friction]) {
  const { dt, temperature } = DEFAULT_SEGMENT;
  const state = { positions: Float64Array.from(start.positions), velocities: initialVelocities(atoms, temperature, 1) };
  const integrator = new LangevinIntegrator(atoms, { dt, temperature, friction, seed: 1 });
  integrator.step(state, 1000);
  const t0 = performance.now();
  integrator.step(state, 10_000);
  console.log(`MD (friction ${friction}, T=${temperature}): ${((performance.now() - t0) / 10).toFixed(1)} ms per 1000 steps`);
}

for (const temperature of temperatures) {
  const options = { ...DEFAULT_SEGMENT, temperature };
  let minimized = start.positions;
  let energy = start.energy;
  let label = startLabel;
  let transitions = 0;
  let changed = 0;
  let radiusMax = 0;
  const seen = new Set([label]);
  const t0 = performance.now();
  for (let s = 0; s < segments; s++) {
    const result = runSegment(minimized, label, { ...options, seed: 1000 + s });
    transitions += result.transitions;
    if (result.endLabel !== label) changed++;
    seen.add(result.endLabel);
    minimized = result.endMinimized;
    energy = result.endEnergy;
    label = result.endLabel;
    radiusMax = Math.max(radiusMax, radiusFromCentre(result.final.positions));
  }
  const msPerSegment = (performance.now() - t0) / segments;
  // Quench cost alone, from hot snapshots one check interval apart.
  let quenchSteps = 0;
  let quenchMs = 0;
  const quenches = 20;
  const state = { positions: Float64Array.from(minimized), velocities: initialVelocities(atoms, temperature, 7) };
  const integrator = new LangevinIntegrator(atoms, { dt: options.dt, temperature, friction: options.friction, seed: 7 });
  for (let q = 0; q < quenches; q++) {
    integrator.step(state, options.checkEvery);
    const tq = performance.now();
    quenchSteps += minimize(state.positions).steps;
    quenchMs += performance.now() - tq;
  }
  console.log(
    `T=${temperature}: ${msPerSegment.toFixed(1)} ms/segment (${options.steps} steps, a check every ${options.checkEvery}), ` +
      `${(transitions / segments).toFixed(3)} transitions/segment, ${(changed / segments).toFixed(3)} of segments end in another state, ` +
      `${seen.size} distinct states in ${segments} segments, last energy ${energy.toFixed(4)}; ` +
      `quench ${(quenchSteps / quenches).toFixed(0)} FIRE iterations, ${(quenchMs / quenches).toFixed(1)} ms; ` +
      `largest atom distance from the centre at segment ends ${radiusMax.toFixed(2)} (container ${containerRadius(atoms).toFixed(2)})`,
  );
}

function radiusFromCentre(positions: Float64Array): number {
  const n = positions.length / 3;
  const centre = [0, 0, 0];
  for (let i = 0; i < n; i++) for (let a = 0; a < 3; a++) centre[a]! += positions[3 * i + a]! / n;
  let max = 0;
  for (let i = 0; i < n; i++) {
    let d2 = 0;
    for (let a = 0; a < 3; a++) d2 += (positions[3 * i + a]! - centre[a]!) ** 2;
    max = Math.max(max, Math.sqrt(d2));
  }
  return max;
}

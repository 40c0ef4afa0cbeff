// The ParSplice MD engine: forces, dynamics, minimization, labels, segments and the stored form.
// Every run is seeded, so each assertion is about one fixed trajectory.
import test from 'ava';
import { pack, unpack } from 'msgpackr';
import { initialCluster } from '../../../examples/parsplice/md/cluster.js';
import { addContainerEnergyForces, containerRadius } from '../../../examples/parsplice/md/container.js';
import { DEFAULT_ATOMS, DEFAULT_SEGMENT } from '../../../examples/parsplice/md/defaults.js';
import { initialVelocities, kineticEnergy, LangevinIntegrator } from '../../../examples/parsplice/md/integrate.js';
import { stateLabel } from '../../../examples/parsplice/md/label.js';
import { ljEnergy, ljEnergyForces } from '../../../examples/parsplice/md/lj.js';
import { DEFAULT_FORCE_TOLERANCE, minimize } from '../../../examples/parsplice/md/minimize.js';
import { potentialEnergyForces } from '../../../examples/parsplice/md/potential.js';
import { gaussian, seededRandom } from '../../../examples/parsplice/md/random.js';
import { runSegment } from '../../../examples/parsplice/md/segment.js';
import { positionsOf, toStoredState, type StoredState } from '../../../examples/parsplice/md/state-codec.js';

const ATOMS = DEFAULT_ATOMS;
const start = initialCluster(ATOMS, 1);
const startLabel = stateLabel(start.positions, start.energy);

function perturbed(positions: Float64Array, amplitude: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  return positions.map((x) => x + amplitude * (2 * random() - 1));
}

function maxAbs(values: Float64Array): number {
  return values.reduce((max, v) => Math.max(max, Math.abs(v)), 0);
}

function bytesOf(values: Float64Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('hex');
}

/** Central-difference check of forces = -dE/dx for every coordinate; returns the worst relative error. */
function worstForceError(positions: Float64Array, energyForces: (x: Float64Array, f: Float64Array) => number): number {
  const forces = new Float64Array(positions.length);
  energyForces(positions, forces);
  const scratch = new Float64Array(positions.length);
  const h = 1e-5;
  let worst = 0;
  for (let k = 0; k < positions.length; k++) {
    const x = Float64Array.from(positions);
    x[k] = positions[k]! + h;
    const up = energyForces(x, scratch);
    x[k] = positions[k]! - h;
    const down = energyForces(x, scratch);
    const numeric = -(up - down) / (2 * h);
    worst = Math.max(worst, Math.abs(forces[k]! - numeric) / Math.max(1, Math.abs(forces[k]!)));
  }
  return worst;
}

test('LJ forces are the negative central-difference gradient of the energy (relative error < 1e-6)', (t) => {
  const x = perturbed(start.positions, 0.08, 11);
  const forces = new Float64Array(x.length);
  t.is(ljEnergyForces(x, forces), ljEnergy(x));
  t.true(maxAbs(forces) > 1, 'a perturbed cluster has large forces to check');
  const worst = worstForceError(x, ljEnergyForces);
  t.true(worst < 1e-6, `worst relative force error ${worst}`);
  // Two atoms at the pair minimum: energy -1, no force.
  const pair = new Float64Array([0, 0, 0, 2 ** (1 / 6), 0, 0]);
  const pairForces = new Float64Array(6);
  t.true(Math.abs(ljEnergyForces(pair, pairForces) + 1) < 1e-14);
  t.true(maxAbs(pairForces) < 1e-12);
});

test('container forces are the negative gradient too, and the container is zero for a bound cluster', (t) => {
  const radius = containerRadius(ATOMS);
  t.is(addContainerEnergyForces(start.positions, new Float64Array(3 * ATOMS), radius), 0);
  // Push two atoms out past the wall (far from each other and the rest, so LJ is smooth).
  const x = Float64Array.from(start.positions);
  x.set([radius + 1.5, 0.3, -0.2], 0);
  x.set([-0.4, -(radius + 0.8), 0.6], 3);
  const wallOnly = (p: Float64Array, f: Float64Array): number => {
    f.fill(0);
    return addContainerEnergyForces(p, f, radius);
  };
  t.true(wallOnly(x, new Float64Array(x.length)) > 0);
  const worst = worstForceError(x, wallOnly);
  t.true(worst < 1e-6, `worst relative container force error ${worst}`);
  const total = worstForceError(x, (p, f) => potentialEnergyForces(p, f, radius));
  t.true(total < 1e-6, `worst relative total force error ${total}`);
  // Momentum conservation: the wall's forces sum to zero.
  const f = new Float64Array(x.length);
  wallOnly(x, f);
  for (let axis = 0; axis < 3; axis++) {
    let sum = 0;
    for (let i = 0; i < ATOMS; i++) sum += f[3 * i + axis]!;
    t.true(Math.abs(sum) < 1e-12);
  }
});

test('NVE (friction 0) velocity Verlet keeps total energy within 2e-4 relative over 2000 steps at the default dt', (t) => {
  const temperature = DEFAULT_SEGMENT.temperature;
  const state = { positions: Float64Array.from(start.positions), velocities: initialVelocities(ATOMS, temperature, 3) };
  const integrator = new LangevinIntegrator(ATOMS, { dt: DEFAULT_SEGMENT.dt, temperature, friction: 0, seed: 3 });
  const e0 = start.energy + kineticEnergy(state.velocities);
  let worst = 0;
  for (let chunk = 0; chunk < 20; chunk++) {
    const total = integrator.step(state, 100) + kineticEnergy(state.velocities);
    worst = Math.max(worst, Math.abs(total - e0) / Math.abs(e0));
  }
  // Measured 3.1e-5 here (6.4e-5 at twice the temperature): a bounded O(dt^2) oscillation, not a
  // drift. 2e-4 leaves a 6x margin.
  t.true(worst < 2e-4, `worst relative energy error ${worst}`);
  // Momentum stays zero without a thermostat.
  for (let axis = 0; axis < 3; axis++) {
    let p = 0;
    for (let i = 0; i < ATOMS; i++) p += state.velocities[3 * i + axis]!;
    t.true(Math.abs(p) < 1e-10);
  }
});

test('initial velocities have zero momentum and exactly the requested kinetic temperature', (t) => {
  const v = initialVelocities(ATOMS, 0.3, 5);
  t.true(Math.abs(kineticEnergy(v) / (1.5 * (ATOMS - 1)) - 0.3) < 1e-12);
  for (let axis = 0; axis < 3; axis++) {
    let p = 0;
    for (let i = 0; i < ATOMS; i++) p += v[3 * i + axis]!;
    t.true(Math.abs(p) < 1e-12);
  }
  t.is(bytesOf(initialVelocities(ATOMS, 0.3, 5)), bytesOf(v));
});

test('Langevin dynamics holds the kinetic temperature near the thermostat (within 10% over 4000 steps)', (t) => {
  const temperature = DEFAULT_SEGMENT.temperature;
  const state = { positions: Float64Array.from(start.positions), velocities: initialVelocities(ATOMS, temperature, 9) };
  const integrator = new LangevinIntegrator(ATOMS, { dt: DEFAULT_SEGMENT.dt, temperature, friction: DEFAULT_SEGMENT.friction, seed: 9 });
  integrator.step(state, 1000);
  let sum = 0;
  const samples = 60;
  for (let s = 0; s < samples; s++) {
    integrator.step(state, 50);
    sum += kineticEnergy(state.velocities) / (1.5 * ATOMS);
  }
  const mean = sum / samples;
  t.true(Math.abs(mean / temperature - 1) < 0.1, `mean kinetic temperature ${mean}`);
});

test('the minimizer lowers the energy of a perturbed structure to the force tolerance without touching its input', (t) => {
  const x = perturbed(start.positions, 0.1, 21);
  const copy = Float64Array.from(x);
  const before = ljEnergy(x);
  const result = minimize(x);
  t.is(bytesOf(x), bytesOf(copy));
  t.true(result.converged);
  t.true(result.energy < before - 1, `${result.energy} from ${before}`);
  const forces = new Float64Array(x.length);
  t.is(potentialEnergyForces(result.positions, forces, containerRadius(ATOMS)), result.energy);
  t.is(maxAbs(forces), result.gradientNorm);
  t.true(result.gradientNorm <= DEFAULT_FORCE_TOLERANCE);
  t.true(result.steps > 0);
  t.true(Math.abs(ljEnergy(result.positions) - result.energy) < 1e-12, 'the container is zero at a bound minimum');
  const loose = minimize(x, { forceTolerance: 1e-3 });
  t.true(loose.converged && loose.gradientNorm <= 1e-3 && loose.steps < result.steps);
  const capped = minimize(x, { stepsMax: 5 });
  t.false(capped.converged);
  t.is(capped.steps, 5);
});

test('the initial cluster is deterministic from its seed, minimized, and depends on the seed', (t) => {
  t.true(start.converged);
  t.is(start.positions.length, 3 * ATOMS);
  t.is(bytesOf(initialCluster(ATOMS, 1).positions), bytesOf(start.positions));
  t.not(bytesOf(initialCluster(ATOMS, 2).positions), bytesOf(start.positions));
});

/** A random proper rotation from a uniformly random unit quaternion. */
function randomRotation(random: () => number): number[] {
  const normal = gaussian(random);
  const q = [normal(), normal(), normal(), normal()];
  const n = Math.hypot(...q);
  const [w, x, y, z] = q.map((c) => c / n) as [number, number, number, number];
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  ];
}

function transformed(positions: Float64Array, seed: number, mirror: boolean): Float64Array {
  const random = seededRandom(seed);
  const r = randomRotation(random);
  const shift = [10 * random() - 5, 10 * random() - 5, 10 * random() - 5];
  const atoms = positions.length / 3;
  const order = Array.from({ length: atoms }, (_, i) => i);
  for (let i = atoms - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const out = new Float64Array(positions.length);
  for (let i = 0; i < atoms; i++) {
    const source = order[i]!;
    const p = [positions[3 * source]!, positions[3 * source + 1]!, positions[3 * source + 2]!];
    if (mirror) p[0] = -p[0]!;
    for (let a = 0; a < 3; a++) out[3 * i + a] = r[3 * a]! * p[0]! + r[3 * a + 1]! * p[1]! + r[3 * a + 2]! * p[2]! + shift[a]!;
  }
  return out;
}

test('labels are invariant under rotation, translation, reflection and permutation, and differ between distinct minima', (t) => {
  t.regex(startLabel, /^[0-9a-f]{32}$/);
  for (let seed = 1; seed <= 5; seed++) {
    const moved = transformed(start.positions, seed, seed % 2 === 0);
    t.not(bytesOf(moved), bytesOf(start.positions));
    const energy = ljEnergy(moved);
    t.true(Math.abs(energy - start.energy) < 1e-10);
    t.is(stateLabel(moved, energy), startLabel, `transform ${seed}`);
    const again = minimize(moved);
    t.is(stateLabel(again.positions, again.energy), startLabel, `transform ${seed}, re-minimized`);
  }
  // A hot segment from the start leaves its basin; the minimum it ends in is another label.
  let other: { label: string; energy: number } | undefined;
  for (let seed = 1; seed <= 10 && other === undefined; seed++) {
    const result = runSegment(start.positions, startLabel, { ...DEFAULT_SEGMENT, temperature: 0.25, seed });
    if (result.endLabel !== startLabel) other = { label: result.endLabel, energy: result.endEnergy };
  }
  if (other === undefined) return t.fail('no hot segment left the start basin');
  t.not(other.label, startLabel);
  t.true(Math.abs(other.energy - start.energy) > 1e-4, `${other.energy} vs ${start.energy}`);
});

test('runSegment is deterministic for a seed and labels its end minimum with stateLabel', (t) => {
  const options = { ...DEFAULT_SEGMENT, seed: 42 };
  const a = runSegment(start.positions, startLabel, options);
  const b = runSegment(start.positions, startLabel, options);
  t.is(a.steps, DEFAULT_SEGMENT.steps);
  t.is(a.endLabel, b.endLabel);
  t.is(a.endEnergy, b.endEnergy);
  t.is(a.transitions, b.transitions);
  t.is(bytesOf(a.endMinimized), bytesOf(b.endMinimized));
  t.is(bytesOf(a.final.positions), bytesOf(b.final.positions));
  t.is(bytesOf(a.final.velocities), bytesOf(b.final.velocities));
  t.is(a.endLabel, stateLabel(a.endMinimized, a.endEnergy));
  // Ending elsewhere takes at least one transition; leaving and coming back takes two.
  t.true(a.endLabel === startLabel ? a.transitions !== 1 : a.transitions >= 1);
  const c = runSegment(start.positions, startLabel, { ...options, seed: 43 });
  t.not(bytesOf(c.final.positions), bytesOf(a.final.positions));
  t.is(c.endLabel, stateLabel(c.endMinimized, c.endEnergy));
});

test('stored states round-trip positions exactly, through msgpack and from unaligned bytes', (t) => {
  const positions = Float64Array.from(start.positions);
  positions[0] = -0;
  positions[1] = Number.MIN_VALUE;
  positions[2] = 1 / 3;
  const stored = toStoredState(startLabel, start.energy, positions);
  t.is(stored.atoms, ATOMS);
  t.is(stored.positions.byteLength, 24 * ATOMS);
  t.is(bytesOf(positionsOf(stored)), bytesOf(positions));
  t.true(Object.is(positionsOf(stored)[0], -0));
  const decoded = unpack(pack(stored)) as StoredState;
  t.is(decoded.label, startLabel);
  t.is(decoded.energy, start.energy);
  t.is(bytesOf(positionsOf(decoded)), bytesOf(positions));
  // Bytes at an odd offset of a larger buffer, as a decoder may hand them out.
  const host = new Uint8Array(stored.positions.byteLength + 3);
  host.set(stored.positions, 3);
  t.is(bytesOf(positionsOf({ ...stored, positions: host.subarray(3) })), bytesOf(positions));
  t.throws(() => positionsOf({ ...stored, atoms: ATOMS + 1 }), { instanceOf: RangeError });
});

test('seeded random numbers repeat for a seed, and the normals have mean 0 and variance 1', (t) => {
  const a = seededRandom(7);
  const b = seededRandom(7);
  for (let i = 0; i < 100; i++) {
    const u = a();
    t.is(u, b());
    t.true(u >= 0 && u < 1);
  }
  const normal = gaussian(seededRandom(8));
  let sum = 0;
  let sum2 = 0;
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const z = normal();
    sum += z;
    sum2 += z * z;
  }
  t.true(Math.abs(sum / n) < 0.02);
  t.true(Math.abs(sum2 / n - 1) < 0.02);
});

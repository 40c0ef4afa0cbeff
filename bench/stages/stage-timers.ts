import { medianAndRange, type Range } from '../stats.js';
import { ownCpuUs } from './process-cpu.js';

/**
 * One stage's cost: the median over repetitions of the mean wall time per operation, with the
 * spread, and the median CPU time per operation of this process (all its threads: LevelDB's
 * work on the thread pool counts). On a shared machine wall time grows whenever a neighbour
 * has the core; CPU time does not.
 */
export interface StageTiming {
  usPerOp: number;
  range: Range;
  cpuUsPerOp: number;
}

/** Wall and CPU time of one repetition, per op. */
interface Sample { wall: number; cpu: number }

async function sample(opsPerRepetition: number, run: () => void | Promise<void>): Promise<Sample> {
  const cpu = ownCpuUs();
  const start = process.hrtime.bigint();
  await run();
  const wall = Number(process.hrtime.bigint() - start) / 1000;
  return { wall: wall / opsPerRepetition, cpu: (ownCpuUs() - cpu) / opsPerRepetition };
}

function timingOf(samples: readonly Sample[]): StageTiming {
  const { median, range } = medianAndRange(samples.map((s) => s.wall));
  return { usPerOp: median, range, cpuUsPerOp: medianAndRange(samples.map((s) => s.cpu)).median };
}

export interface TimingOptions {
  /** Repetitions timed after the warm-up; the median of them is reported. */
  repetitions: number;
  /** Untimed repetitions first, so the code is optimised and caches are warm before anything counts. */
  warmups: number;
}

export const DEFAULT_TIMING: TimingOptions = { repetitions: 5, warmups: 1 };

/**
 * Something a stage's loop returns so its result is used: V8 may drop work whose result nothing
 * reads, and then the loop would time nothing.
 */
let sink = 0;

/** Keeps a value alive past the optimiser (see `sink`). */
export function consume(value: number): void {
  sink = (sink + value) | 0;
}

/** The sink, exported so it is observable (a variable only ever written could be dropped with its writes). */
export function sunk(): number {
  return sink;
}

/**
 * Times `repetition` (which runs `opsPerRepetition` operations of one stage, in a tight loop)
 * `warmups + repetitions` times and reports µs per operation. `repetition` gets the repetition
 * number so it can use fresh keys each time (a store or a key filter must see new keys, as a
 * server writing new records does). A repetition may be asynchronous: its awaited end is part
 * of its time (a store write's completion, a promise's resolution).
 */
export async function timeStage(opsPerRepetition: number, repetition: (round: number) => void | Promise<void>,
  options: TimingOptions = DEFAULT_TIMING): Promise<StageTiming> {
  if (!(opsPerRepetition > 0)) throw new RangeError(`opsPerRepetition must be positive, got ${opsPerRepetition}`);
  for (let w = 0; w < options.warmups; w++) await repetition(w);
  const samples: Sample[] = [];
  for (let r = 0; r < options.repetitions; r++) samples.push(await sample(opsPerRepetition, () => repetition(options.warmups + r)));
  return timingOf(samples);
}

/** Repetitions a stage runs in all (warm-ups included): how many sets of fresh keys it needs. */
export function roundsOf(options: TimingOptions): number {
  return options.warmups + options.repetitions;
}

import { benchKey, benchValue } from '../bench-records.js';
import { percentile } from '../stats.js';
import type { KvTarget } from './kv-targets.js';
import { medianExtras, medianFigures, type RowSetup, type SuiteRow } from './suite-row.js';

const BATCH = 1000;

/**
 * Rounds of the bulk and single rows unless `--rounds` says otherwise. Three is the fewest whose
 * median one slow round (another job on this shared machine, a compaction) cannot move.
 */
export const DEFAULT_ROUNDS = 3;

/** Where bulkRows' keys of `bytes`-sized values start (round 0 holds base .. base + records - 1): each value size has its own keys. */
export function bulkKeyBase(bytes: number): number {
  return 10_000_000 * (bytes % 97);
}

/** Keys first .. first + count - 1 of the bench's records, with their values when `bytes` is given. */
function records(first: number, count: number, bytes?: number): { keys: Buffer[]; values: Buffer[] } {
  const keys = Array.from({ length: count }, (_, j) => benchKey(first + j));
  return { keys, values: bytes === undefined ? [] : keys.map((_, j) => benchValue(first + j, bytes)) };
}

/**
 * Runs `rounds` rounds, each of which measures every target in turn, and regroups the figures by
 * target: result[t] holds target t's figure of each round, in round order.
 */
async function roundsByTarget<M>(targets: readonly KvTarget[], rounds: number, runRound: (round: number) => Promise<M[]>): Promise<M[][]> {
  const byTarget: M[][] = targets.map(() => []);
  for (let round = 0; round < rounds; round++) (await runRound(round)).forEach((figure, t) => byTarget[t]!.push(figure));
  return byTarget;
}

/** One bulk round: `count` records from `first` put, then got, through every target batch by batch in turn; each target's rates. */
async function bulkRound(targets: readonly KvTarget[], bytes: number, first: number, count: number): Promise<Array<{ put: number; get: number }>> {
  const ns = targets.map(() => ({ put: 0n, get: 0n }));
  for (const phase of ['put', 'get'] as const) {
    for (let b = 0; b < count; b += BATCH) {
      const { keys, values } = records(first + b, Math.min(BATCH, count - b), phase === 'put' ? bytes : undefined);
      for (const [t, target] of targets.entries()) {
        const start = process.hrtime.bigint();
        if (phase === 'put') await target.putBatch(keys, values);
        else if ((await target.getBatch(keys)) !== keys.length) throw new Error(`${target.name} lost records`);
        ns[t]![phase] += process.hrtime.bigint() - start;
      }
    }
  }
  return ns.map((n) => ({ put: count / (Number(n.put) / 1e9), get: count / (Number(n.get) / 1e9) }));
}

/**
 * Bulk put then bulk get of `count` values of `bytes` through every target, batch by batch in turn
 * (a compaction or a stall lands on all of them alike), `rounds` rounds of fresh keys: each row is
 * the median over the rounds with its range, for hpckv and every anchor.
 */
export async function bulkRows(targets: KvTarget[], bytes: number, count: number, label: string, rounds: number, setup: RowSetup): Promise<SuiteRow[]> {
  const rates = await roundsByTarget(targets, rounds, (round) => bulkRound(targets, bytes, bulkKeyBase(bytes) + round * count, count));
  const redis = targets.some((target) => target.name.startsWith('redis'));
  return (['put', 'get'] as const).map((phase) => ({
    id: `bulk-${phase}-${label}`, section: 'bulk', unit: 'records/s', higherIsBetter: true, ...setup,
    what: `${phase === 'put' ? 'putMany' : 'getMany'} of ${BATCH} × ${label} vs raw db.${phase === 'put' ? 'batch' : 'getMany'}(${BATCH})` +
      (redis ? ` and Redis ${phase === 'put' ? 'MSET' : 'MGET'} of ${BATCH}` : ''),
    ...medianFigures(targets.map((target) => target.name), rates.map((perRound) => perRound.map((rate) => rate[phase])), true),
  }));
}

/** Writes the keys the single gets read (bulkRows' first round of `bytes`-sized values) into every target, untimed. */
export async function loadBulkKeys(targets: KvTarget[], bytes: number, count: number): Promise<void> {
  const base = bulkKeyBase(bytes);
  for (let b = 0; b < count; b += BATCH) {
    const { keys, values } = records(base + b, Math.min(BATCH, count - b), bytes);
    for (const target of targets) await target.putBatch(keys, values);
  }
}

interface SinglesResult { rate: number; p50: number; p99: number }

/** `count` single operations with `window` outstanding: the rate, and the p50 and p99 latency in µs. */
async function singles(count: number, window: number, op: (i: number) => Promise<unknown>): Promise<SinglesResult> {
  const latencies: number[] = [];
  let next = 0;
  const start = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const began = process.hrtime.bigint();
      await op(i);
      latencies.push(Number(process.hrtime.bigint() - began) / 1000);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  latencies.sort((a, b) => a - b);
  return { rate: count / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** The p50 and p99 of every target over the rounds, as `extra` medians with their ranges. */
function latencyExtras(targets: readonly KvTarget[], results: ReadonlyArray<readonly SinglesResult[]>): ReturnType<typeof medianExtras> {
  const perName = new Map<string, number[]>();
  targets.forEach((target, t) => {
    perName.set(`${target.name} p50 µs`, results[t]!.map((r) => r.p50));
    perName.set(`${target.name} p99 µs`, results[t]!.map((r) => r.p99));
  });
  return medianExtras(perName);
}

/**
 * Single get and put of `bytes` with 1 and with 64 in flight through every target, `rounds` rounds
 * with the targets in turn in each: one at a time is reported as p50 latency, 64 in flight as
 * ops/s, each the median over the rounds with its range; every row carries every target's p50 and
 * p99 (median and range) in `extra` and `extraRange`. Puts write fresh keys in every round.
 */
export async function singleRows(targets: KvTarget[], bytes: number, count: number, keyCount: number, rounds: number, setup: RowSetup): Promise<SuiteRow[]> {
  // The gets read keys every target holds (loadBulkKeys, or the bulk rows' first round).
  const base = bulkKeyBase(bytes);
  const value = benchValue(1, bytes);
  const rows: SuiteRow[] = [];
  let block = 0; // every round of every row has its own block of `count` keys to put
  for (const window of [1, 64]) {
    for (const kind of ['get', 'put'] as const) {
      const results = await roundsByTarget(targets, rounds, async () => {
        const putFirst = base + 50_000_000 + (block++) * count;
        const round: SinglesResult[] = [];
        for (const target of targets) {
          round.push(await singles(count, window, kind === 'get'
            ? async (i) => { if ((await target.get(benchKey(base + ((i * 7919) % keyCount)))) == null) throw new Error(`${target.name}: key missing`); }
            : (i) => target.put(benchKey(putFirst + i), value)));
        }
        return round;
      });
      const oneAtATime = window === 1;
      rows.push({
        id: `single-${kind}-${window}`, section: 'single', higherIsBetter: !oneAtATime, unit: oneAtATime ? 'µs (p50)' : 'ops/s', ...setup,
        what: `single ${kind} of ${bytes} B, ${window} in flight${oneAtATime ? ': p50 latency' : ''}`,
        ...medianFigures(targets.map((target) => target.name), results.map((perRound) => perRound.map((r) => (oneAtATime ? r.p50 : r.rate))), !oneAtATime),
        ...latencyExtras(targets, results),
      });
    }
  }
  return rows;
}

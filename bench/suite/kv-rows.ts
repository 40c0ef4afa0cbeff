import { benchKey, benchValue } from '../bench-records.js';
import { percentile } from '../stats.js';
import type { KvTarget } from './kv-targets.js';
import { ratioOf, type SuiteRow } from './suite-row.js';

const BATCH = 1000;

/** Where bulkRows' keys of `bytes`-sized values start (round 0 holds base .. base + records - 1): each value size has its own keys. */
export function bulkKeyBase(bytes: number): number {
  return 10_000_000 * (bytes % 97);
}

/**
 * Bulk put then bulk get of `records` values of `bytes` through every target, batch by batch in
 * turn (a compaction or a stall lands on all of them alike), best of two rounds of fresh keys.
 */
export async function bulkRows(targets: KvTarget[], bytes: number, records: number, label: string): Promise<SuiteRow[]> {
  const best = targets.map(() => ({ put: 0, get: 0 }));
  for (let round = 0; round < 2; round++) {
    const first = bulkKeyBase(bytes) + round * records;
    const ns = targets.map(() => ({ put: 0n, get: 0n }));
    for (const phase of ['put', 'get'] as const) {
      for (let b = 0; b < records; b += BATCH) {
        const keys = Array.from({ length: Math.min(BATCH, records - b) }, (_, j) => benchKey(first + b + j));
        const values = phase === 'put' ? keys.map((_, j) => benchValue(first + b + j, bytes)) : [];
        for (let t = 0; t < targets.length; t++) {
          const start = process.hrtime.bigint();
          if (phase === 'put') await targets[t]!.putBatch(keys, values);
          else if ((await targets[t]!.getBatch(keys)) !== keys.length) throw new Error(`${targets[t]!.name} lost records`);
          ns[t]![phase] += process.hrtime.bigint() - start;
        }
      }
    }
    ns.forEach((n, t) => {
      best[t]!.put = Math.max(best[t]!.put, records / (Number(n.put) / 1e9));
      best[t]!.get = Math.max(best[t]!.get, records / (Number(n.get) / 1e9));
    });
  }
  const redis = targets.some((target) => target.name.startsWith('redis'));
  return (['put', 'get'] as const).map((phase) => ({
    id: `bulk-${phase}-${label}`, section: 'bulk', unit: 'records/s', higherIsBetter: true,
    what: `${phase === 'put' ? 'putMany' : 'getMany'} of ${BATCH} × ${label} vs raw db.${phase === 'put' ? 'batch' : 'getMany'}(${BATCH})` +
      (redis ? ` and Redis ${phase === 'put' ? 'MSET' : 'MGET'} of ${BATCH}` : ''),
    value: best[0]![phase],
    anchors: targets.slice(1).map((target, i) => ({ name: target.name, value: best[i + 1]![phase], ratio: best[0]![phase] / best[i + 1]![phase] })),
  }));
}

/** Writes the keys the single gets read (bulkRows' first round of `bytes`-sized values) into every target, untimed. */
export async function loadBulkKeys(targets: KvTarget[], bytes: number, records: number): Promise<void> {
  const base = bulkKeyBase(bytes);
  for (let b = 0; b < records; b += BATCH) {
    const keys = Array.from({ length: Math.min(BATCH, records - b) }, (_, j) => benchKey(base + b + j));
    const values = keys.map((_, j) => benchValue(base + b + j, bytes));
    for (const target of targets) await target.putBatch(keys, values);
  }
}

/** `count` single operations with `window` outstanding; each one's latency in µs (ascending) and the rate. */
async function singles(count: number, window: number, op: (i: number) => Promise<unknown>): Promise<{ rate: number; latencies: number[] }> {
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
  return { rate: count / seconds, latencies };
}

/**
 * Single get and put of `bytes` with 1 and with 64 in flight through every target (targets in
 * turn, two rounds, best kept): one at a time is reported as p50 latency, 64 in flight as ops/s;
 * both carry p50 and p99 for every target in `extra`.
 */
export async function singleRows(targets: KvTarget[], bytes: number, count: number, records: number): Promise<SuiteRow[]> {
  // The gets read keys every target holds (loadBulkKeys, or the bulk rows' first round).
  const base = bulkKeyBase(bytes);
  const rows: SuiteRow[] = [];
  for (const window of [1, 64]) {
    for (const kind of ['get', 'put'] as const) {
      const results = targets.map(() => ({ rate: 0, p50: Infinity, p99: Infinity }));
      for (let round = 0; round < 2; round++) {
        for (let t = 0; t < targets.length; t++) {
          const target = targets[t]!;
          const value = benchValue(1, bytes);
          const r = await singles(count, window, kind === 'get'
            ? async (i) => { if ((await target.get(benchKey(base + ((i * 7919) % records)))) == null) throw new Error(`${target.name}: key missing`); }
            : (i) => target.put(benchKey(base + 50_000_000 + round * count + i), value));
          const best = results[t]!;
          best.rate = Math.max(best.rate, r.rate);
          best.p50 = Math.min(best.p50, percentile(r.latencies, 50));
          best.p99 = Math.min(best.p99, percentile(r.latencies, 99));
        }
      }
      const extra: Record<string, number> = {};
      targets.forEach((target, t) => { extra[`${target.name} p50 µs`] = results[t]!.p50; extra[`${target.name} p99 µs`] = results[t]!.p99; });
      const oneAtATime = window === 1;
      const valueOf = (t: number): number => (oneAtATime ? results[t]!.p50 : results[t]!.rate);
      rows.push({
        id: `single-${kind}-${window}`, section: 'single', higherIsBetter: !oneAtATime, unit: oneAtATime ? 'µs (p50)' : 'ops/s',
        what: `single ${kind} of ${bytes} B, ${window} in flight${oneAtATime ? ': p50 latency' : ''}`,
        value: valueOf(0), extra,
        anchors: targets.slice(1).map((target, i) => ({ name: target.name, value: valueOf(i + 1), ratio: ratioOf(valueOf(0), valueOf(i + 1), !oneAtATime) })),
      });
    }
  }
  return rows;
}

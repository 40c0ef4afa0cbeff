import type { BenchReport } from '../kv-bench.js';

/** One figure of the suite: hpckv's value and each anchor measured in the same run. */
export interface SuiteRow {
  id: string;
  section: string;
  what: string;
  unit: string;
  /** false for latencies and bytes moved: there, less is better. */
  higherIsBetter: boolean;
  value: number;
  /** ratio above 1 means hpckv is better than that anchor. */
  anchors: Array<{ name: string; value: number; ratio: number }>;
  extra?: Record<string, number>;
}

export function ratioOf(value: number, anchor: number, higherIsBetter: boolean): number {
  return higherIsBetter ? value / anchor : anchor / value;
}

/** Rows of one of the single benches (kv, scan, region, procedure, parsplice) as suite rows against `anchor` (by row id). */
export function fromBenchReport(section: string, anchor: string | ((id: string) => string), report: BenchReport): SuiteRow[] {
  return report.rows.map((row) => {
    const higherIsBetter = !(row.unit.startsWith('µs') || row.unit === 'bytes');
    return {
      id: row.id, section, what: row.what, unit: row.unit, higherIsBetter, value: row.value,
      anchors: [{ name: typeof anchor === 'string' ? anchor : anchor(row.id), value: row.baseline, ratio: row.ratio }], ...(row.extra === undefined ? {} : { extra: row.extra }),
    };
  });
}

import type { BenchReport } from '../bench-report.js';
import { medianAndRange, type Range } from '../stats.js';

export type Transport = 'unix' | 'tcp';

/** An anchor's figure: what hpckv is compared with, measured in the same run. */
export interface AnchorFigure {
  name: string;
  /** The median over the row's rounds (or the one run's value when rounds is 1). */
  value: number;
  /** hpckv's value over this one (medians over medians); above 1 means hpckv is better. */
  ratio: number;
  /** Lowest and highest over the rounds; only when rounds > 1. */
  range?: Range;
}

/** Where a row's hpckv figure was measured: the text the tables print, and its server count apart. */
export interface RowSetup {
  /** What was measured on hpckv's side, e.g. "hpckv 2 servers, unix socket". */
  setup: string;
  /** hpckv servers behind the figure; 0 when none took part (the sandbox alone). */
  servers: number;
}

/** The setup of a row measured with no server at all. */
export function serverlessSetup(text: string): RowSetup {
  return { setup: text, servers: 0 };
}

/** One figure of the suite: hpckv's value and each anchor measured in the same run. */
export interface SuiteRow extends RowSetup {
  id: string;
  section: string;
  what: string;
  unit: string;
  /** false for latencies and bytes moved: there, less is better. */
  higherIsBetter: boolean;
  /** Rounds behind the figures. Above 1: every value is the median over the rounds and `range` their min and max. 1: one run, no range. */
  rounds: number;
  value: number;
  /** Lowest and highest of hpckv's value over the rounds; only when rounds > 1. */
  range?: Range;
  anchors: AnchorFigure[];
  extra?: Record<string, number>;
  /** The range over the rounds of each `extra` figure (same keys; the extra value is then its median). */
  extraRange?: Record<string, Range>;
}

/** The setup of rows measured on a local hpckv group. */
export function hpckvSetup(servers: number, transport: Transport): RowSetup {
  return { setup: `hpckv ${servers} server${servers === 1 ? '' : 's'}, ${transport} socket`, servers };
}

export function ratioOf(value: number, anchor: number, higherIsBetter: boolean): number {
  return higherIsBetter ? value / anchor : anchor / value;
}

/** `{ range }` when there were rounds to spread over; one run has no range (the row says rounds: 1). */
function rangeOf(range: Range, rounds: number): { range?: Range } {
  return rounds > 1 ? { range } : {};
}

/**
 * A row's figures from each target's measurements, one per round (target 0 is hpckv, the others
 * its anchors in `names` order): the medians, their ranges, and ratios of the medians.
 */
export function medianFigures(names: readonly string[], perTarget: ReadonlyArray<readonly number[]>, higherIsBetter: boolean):
  Pick<SuiteRow, 'rounds' | 'value' | 'range' | 'anchors'> {
  const rounds = perTarget[0]!.length;
  const [own, ...others] = perTarget.map((values) => medianAndRange(values));
  return {
    rounds, value: own!.median, ...rangeOf(own!.range, rounds),
    anchors: others.map((other, i) => ({
      name: names[i + 1]!, value: other.median, ratio: ratioOf(own!.median, other.median, higherIsBetter), ...rangeOf(other.range, rounds),
    })),
  };
}

/** Medians (`extra`) and, over more than one round, ranges (`extraRange`) of named figures measured once a round. */
export function medianExtras(perName: ReadonlyMap<string, readonly number[]>): Pick<SuiteRow, 'extra' | 'extraRange'> {
  const extra: Record<string, number> = {};
  const extraRange: Record<string, Range> = {};
  for (const [name, values] of perName) {
    const { median, range } = medianAndRange(values);
    extra[name] = median;
    if (values.length > 1) extraRange[name] = range;
  }
  return Object.keys(extraRange).length > 0 ? { extra, extraRange } : { extra };
}

/**
 * Rows of one of the single benches (kv, scan, region, procedure, parsplice) as suite rows against
 * `anchor` (by row id). They are one run of that bench (rounds 1, no range): the suite keeps them
 * to one run so that the whole suite stays within minutes.
 */
export function fromBenchReport(section: string, anchor: string | ((id: string) => string), setup: RowSetup | ((id: string) => RowSetup),
  report: BenchReport): SuiteRow[] {
  return report.rows.map((row) => {
    const higherIsBetter = !(row.unit.startsWith('µs') || row.unit === 'bytes');
    return {
      id: row.id, section, what: row.what, ...(typeof setup === 'function' ? setup(row.id) : setup), unit: row.unit, higherIsBetter, rounds: 1, value: row.value,
      anchors: [{ name: typeof anchor === 'string' ? anchor : anchor(row.id), value: row.baseline, ratio: row.ratio }], ...(row.extra === undefined ? {} : { extra: row.extra }),
    };
  });
}

/** Percentile of an ascending-sorted array (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** The lowest and the highest of a set of measurements. */
export interface Range {
  min: number;
  max: number;
}

/**
 * The median of measurements (one per round; the mean of the middle two when their count is even)
 * and their range: a median is not moved by one round a neighbour's job slowed down, and the range
 * shows how far the rounds spread.
 */
export function medianAndRange(values: readonly number[]): { median: number; range: Range } {
  if (values.length === 0) throw new RangeError('medianAndRange needs at least one value');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, range: { min: sorted[0]!, max: sorted[sorted.length - 1]! } };
}

/** Seconds since `start` (from process.hrtime.bigint()). */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

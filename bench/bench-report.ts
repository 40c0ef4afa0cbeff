import type { MachineInfo } from './machine.js';

/**
 * What a section bench reports (kv, scan, region, procedure, parsplice): rows of hpckv against
 * its anchor measured in the same run, and the table they print as. Apart from the kv bench so
 * the suite and the other benches read the shape without importing a bench.
 */

export interface BenchRow {
  id: string;
  what: string;
  value: number;
  unit: string;
  baseline: number;
  ratio: number;
  extra?: Record<string, number>;
}

export interface BenchReport {
  machine: MachineInfo;
  servers: number;
  transport: string;
  startedAt: string;
  rows: BenchRow[];
}

function formatNumber(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
}

export function formatTable(report: BenchReport): string {
  const header = ['row', 'hpckv', 'raw classic-level', 'unit', 'ratio'];
  const lines = report.rows.map((row) => [row.id, formatNumber(row.value), formatNumber(row.baseline), row.unit, row.ratio.toFixed(2) + 'x'
    + (row.extra?.['p99'] !== undefined ? `  (p99 ${formatNumber(row.extra['p99'])} vs ${formatNumber(row.extra['rawP99'] ?? NaN)})` : '')]);
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)));
  const fmt = (cells: string[]): string => cells.map((cell, c) => (c === 0 || c === 3 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [
    `hpckv kv bench: ${report.servers} server(s) over ${report.transport}, ${report.machine.cores} cores (${report.machine.cpuModel}), node ${report.machine.node}`,
    fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt),
    'ratio = hpckv / raw for throughput, raw / hpckv for latency (above 1 means hpckv is better)',
  ].join('\n');
}

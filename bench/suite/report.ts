import type { MachineInfo } from '../machine.js';
import type { Range } from '../stats.js';
import type { SuiteRow } from './suite-row.js';

export interface SuiteReport {
  machine: MachineInfo;
  startedAt: string;
  seconds: number;
  command: string;
  quick: boolean;
  /** Rounds of the bulk and single rows (each row also says its own). */
  rounds: number;
  notes: string[];
  rows: SuiteRow[];
}

/** A figure as the tables and plots print it: whole numbers (a count, an axis tick) with no decimals, small ones with two significant digits. */
function num(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) || Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return Math.abs(value) >= 0.01 ? value.toFixed(2) : String(Number(value.toPrecision(2)));
}

/** Text for a Markdown table cell: a `|` would end the cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** A figure with its range over the rounds, `median (min-max)`, or the value alone when it has none. */
function figureText(value: number, range: Range | undefined): string {
  return range === undefined ? num(value) : `${num(value)} (${num(range.min)}-${num(range.max)})`;
}

/** hpckv's figure of a row; a row of one run says so, so that nobody takes it for a median. */
function hpckvText(row: SuiteRow): string {
  return row.rounds > 1 ? figureText(row.value, row.range) : `${num(row.value)} (1 run)`;
}

/** The `extra` figures of a row, each with its range when it has one. */
function extraText(row: SuiteRow): string {
  return Object.entries(row.extra ?? {}).map(([name, value]) => `${name} ${figureText(value, row.extraRange?.[name])}`).join(', ');
}

/** What the figures are: the same sentences head the Markdown table and the HTML report. */
function method(report: SuiteReport): string {
  return 'Ratios above 1 mean hpckv is better (throughput: hpckv / anchor; latency and bytes: anchor / hpckv). ' +
    `Figures with a range are the median (min-max) of ${report.rounds} interleaved rounds (hpckv and every anchor in turn in each round), ` +
    'and their ratio is the ratio of the medians. Rows marked "1 run" are one run of their bench: a single value, not a median.';
}

/** The Markdown table: one line a row, every anchor beside hpckv with its ratio. */
export function markdownTable(report: SuiteReport): string {
  const lines = [
    `hpckv bench suite, ${report.startedAt}: ${report.machine.cores} cores (${report.machine.cpuModel}), ${report.machine.memoryGiB} GiB, ` +
      `node ${report.machine.node}, ${report.machine.platform}; \`${report.command}\`, ${report.seconds.toFixed(0)} s.`,
    '',
    method(report),
    '',
    '| row | what | setup | servers | unit | hpckv | anchor | anchor value | ratio | also measured |',
    '| --- | --- | --- | ---: | --- | ---: | --- | ---: | ---: | --- |',
  ];
  for (const row of report.rows) {
    const anchors = row.anchors.length > 0 ? row.anchors : [{ name: '-', value: NaN, ratio: NaN }];
    anchors.forEach((anchor, i) => {
      // The row's own cells on its first line only; the lines after it carry its other anchors.
      const own = i === 0 ? [row.id, row.what, row.setup, String(row.servers), row.unit, hpckvText(row)] : ['', '', '', '', '', ''];
      const rest = [anchor.name, Number.isNaN(anchor.value) ? '' : figureText(anchor.value, anchor.range),
        Number.isNaN(anchor.ratio) ? '' : `${anchor.ratio.toFixed(2)}x`, i === 0 ? extraText(row) : ''];
      lines.push(`| ${[...own, ...rest].map(cell).join(' | ')} |`);
    });
  }
  for (const note of report.notes) lines.push('', `- ${note}`);
  return `${lines.join('\n')}\n`;
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Characters of a bar's value label that fit above a bar this many pixels below the plot's top (10 px text, about 6 px a character). */
const LABEL_PX_PER_CHAR = 6;

/** About how wide a character of a category label is (12 px text). */
const CATEGORY_PX_PER_CHAR = 7;

/**
 * A category's name under its group: centred, or, when the names are wider than their groups (they
 * ran into each other), slanted at 45 degrees ending under the group's last bar.
 */
function categoryLabel(x: number, y: number, text: string, slanted: boolean): string {
  return slanted
    ? `<text x="${x}" y="${y}" transform="rotate(-45 ${x} ${y})" text-anchor="end">${escape(text)}</text>`
    : `<text x="${x}" y="${y}" text-anchor="middle">${escape(text)}</text>`;
}

/**
 * A bar's value, printed on it (a tooltip alone is lost on paper and in most viewers): vertical
 * text above the bar, or inside its top in white where the bar reaches too high for it to fit.
 */
function valueLabel(centreX: number, barTop: number, plotTop: number, text: string): string {
  const above = barTop - plotTop >= text.length * LABEL_PX_PER_CHAR + 4;
  const x = centreX + 3.5; // rotated text stands left of its baseline: half the text's height back
  const y = above ? barTop - 3 : barTop + 3;
  return `<text class="value" x="${x}" y="${y}" transform="rotate(-90 ${x} ${y})" font-size="10" text-anchor="${above ? 'start' : 'end'}"` +
    `${above ? '' : ' fill="#fff"'}>${escape(text)}</text>`;
}

/** The y axis's ticks: each decade on a log axis, multiples of `step` on a linear one (computed, not summed, so no 0.30000000000000004). */
function axisTicks(scale: 'linear' | 'log', yMin: number, yMax: number, step: number): number[] {
  const ticks: number[] = [];
  if (scale === 'log') for (let e = Math.round(Math.log10(yMin)); e <= Math.round(Math.log10(yMax)); e++) ticks.push(10 ** e);
  else for (let k = 0; k * step <= yMax * (1 + 1e-9); k++) ticks.push(k * step);
  return ticks;
}

/**
 * A grouped bar chart as SVG text: one group per category, one bar per series, its value printed
 * on it; a linear y axis from 0, or a log axis (decades) where values span orders of magnitude.
 * Hand-written: no browser or plotting library needed.
 */
export function barChart(title: string, unit: string, categories: string[], series: Array<{ name: string; values: Array<number | undefined> }>,
  scale: 'linear' | 'log' = 'linear'): string {
  const width = 760;
  const left = 80;
  const top = 40;
  const plotWidth = width - left - 160;
  const plotHeight = 260;
  const groupWidth = plotWidth / Math.max(1, categories.length);
  const longest = Math.max(0, ...categories.map((category) => category.length)) * CATEGORY_PX_PER_CHAR;
  const slanted = longest > groupWidth;
  // Slanted names hang below the axis by about 0.71 of their length (45 degrees).
  const height = top + plotHeight + (slanted ? 24 + Math.ceil(longest * 0.71) : 60);
  const finite = series.flatMap((s) => s.values.filter((v): v is number => v !== undefined && Number.isFinite(v) && v > 0));
  const max = Math.max(1e-9, ...finite);
  const magnitude = 10 ** Math.floor(Math.log10(max));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => max / s <= 6)!;
  const yMax = scale === 'log' ? 10 ** Math.ceil(Math.log10(max)) : Math.ceil(max / step) * step;
  // Log scale (latencies span microseconds to milliseconds): decades from below the smallest value.
  const yMin = scale === 'log' ? 10 ** Math.floor(Math.log10(Math.min(max, ...finite))) : 0;
  const y = (v: number): number => (scale === 'log'
    ? top + plotHeight - ((Math.log10(Math.max(v, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin) || 1)) * plotHeight
    : top + plotHeight - (v / yMax) * plotHeight);
  const ticks = axisTicks(scale, yMin, yMax, step);
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escape(title)}</text>`,
    `<text x="16" y="${top + plotHeight / 2}" transform="rotate(-90 16 ${top + plotHeight / 2})" text-anchor="middle">${escape(scale === 'log' ? `${unit} (log scale)` : unit)}</text>`];
  for (const v of ticks) {
    out.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${escape(num(v))}</text>`);
  }
  const barWidth = (groupWidth * 0.8) / Math.max(1, series.length);
  categories.forEach((category, c) => {
    const x0 = left + c * groupWidth + groupWidth * 0.1;
    series.forEach((s, i) => {
      const v = s.values[c];
      if (v === undefined || !Number.isFinite(v)) return;
      out.push(`<rect x="${x0 + i * barWidth}" y="${y(v)}" width="${barWidth - 2}" height="${top + plotHeight - y(v)}" fill="${COLORS[i % COLORS.length]}">` +
        `<title>${escape(`${s.name} ${category}: ${num(v)} ${unit}`)}</title></rect>`,
      valueLabel(x0 + i * barWidth + (barWidth - 2) / 2, y(v), top, num(v)));
    });
    out.push(slanted ? categoryLabel(x0 + groupWidth * 0.8, top + plotHeight + 14, category, true)
      : categoryLabel(x0 + groupWidth * 0.4, top + plotHeight + 18, category, false));
  });
  out.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${top + plotHeight}" y2="${top + plotHeight}" stroke="#333"/>`);
  series.forEach((s, i) => {
    out.push(`<rect x="${left + plotWidth + 20}" y="${top + i * 20}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`,
      `<text x="${left + plotWidth + 38}" y="${top + i * 20 + 10}">${escape(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** The report's plots: throughput vs value size, throughput vs servers, latency percentiles. */
export function plots(report: SuiteReport): Array<{ name: string; title: string; svg: string }> {
  const byId = new Map(report.rows.map((row) => [row.id, row]));
  const result: Array<{ name: string; title: string; svg: string }> = [];
  const bulk = report.rows.filter((row) => row.section === 'bulk');
  if (bulk.length > 0) {
    const categories = bulk.map((row) => row.id.replace('bulk-', ''));
    const names = ['hpckv', ...new Set(bulk.flatMap((row) => row.anchors.map((a) => a.name)))];
    const series = names.map((name) => ({
      name, values: bulk.map((row) => (name === 'hpckv' ? row.value : row.anchors.find((a) => a.name === name)?.value)),
    }));
    // Log axis: records/s fall by orders of magnitude from 64 B to 4 KiB values, and on a linear
    // axis the 4 KiB bars were a few pixels tall.
    result.push({ name: 'throughput-vs-value-size', title: 'Bulk throughput by value size (medians)',
      svg: barChart('Bulk put/get of 1000 records by value size (medians)', 'records/s', categories, series, 'log') });
  }
  const scaling = report.rows.filter((row) => row.section === 'scaling');
  if (scaling.length > 0) {
    const servers = [...new Set(scaling.map((row) => row.servers))];
    const series = (['put', 'get'] as const).map((phase) => ({
      name: phase, values: servers.map((s) => byId.get(`scaling-${phase}-${s}s`)?.value),
    }));
    result.push({ name: 'throughput-vs-servers', title: 'Aggregate throughput by servers',
      svg: barChart(`Aggregate bulk throughput by servers (${report.machine.cores} cores)`, 'records/s', servers.map((s) => `${s} server(s)`), series) });
  }
  const singles = report.rows.filter((row) => row.section === 'single');
  if (singles.length > 0) {
    const targets = [...new Set(singles.flatMap((row) => Object.keys(row.extra ?? {}).map((k) => k.replace(/ p(50|99) µs$/, ''))))];
    const categories = singles.flatMap((row) => [`${row.id} p50`, `${row.id} p99`]);
    const series = targets.map((target) => ({
      name: target, values: singles.flatMap((row) => [row.extra?.[`${target} p50 µs`], row.extra?.[`${target} p99 µs`]]),
    }));
    result.push({ name: 'latency-percentiles', title: 'Latency percentiles of single operations (medians)', svg: barChart('Single get/put latency (1 and 64 in flight, medians)', 'µs', categories, series, 'log') });
  }
  return result;
}

/** The HTML report: the table and the plots (linked SVG files beside it). */
export function htmlReport(report: SuiteReport, plotFiles: Array<{ file: string; title: string }>): string {
  const rows = report.rows.map((row) => {
    const anchors = row.anchors.map((a) => `${escape(a.name)}: ${figureText(a.value, a.range)}, ratio ${a.ratio.toFixed(2)}x`).join('<br>');
    return `<tr><td>${escape(row.id)}</td><td>${escape(row.what)}</td><td>${escape(row.setup)}</td><td style="text-align:right">${row.servers}</td><td>${escape(row.unit)}</td>` +
      `<td style="text-align:right">${hpckvText(row)}</td><td>${anchors}</td><td>${escape(extraText(row))}</td></tr>`;
  }).join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>hpckv bench ${escape(report.startedAt)}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}</style></head>
<body>
<h1>hpckv bench suite</h1>
<p>${escape(report.startedAt)} on ${report.machine.cores} cores (${escape(report.machine.cpuModel)}), ${report.machine.memoryGiB} GiB, node ${escape(report.machine.node)};
<code>${escape(report.command)}</code>; ${report.seconds.toFixed(0)} s. Every figure is next to its anchor measured in the same run.
${escape(method(report))}</p>
<ul>${report.notes.map((n) => `<li>${escape(n)}</li>`).join('')}</ul>
${plotFiles.map((p) => `<h2>${escape(p.title)}</h2><p><a href="${escape(p.file)}"><img src="${escape(p.file)}" alt="${escape(p.title)}"></a></p>`).join('\n')}
<h2>All rows</h2>
<table><tr><th>row</th><th>what</th><th>setup</th><th>servers</th><th>unit</th><th>hpckv</th><th>anchors</th><th>extra</th></tr>
${rows}
</table>
</body></html>
`;
}

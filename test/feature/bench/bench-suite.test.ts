// Keeps the bench suite's harness alive: small rows through `npm run bench`, and their outputs.
// It checks the report's structure only, never a timing.
import test, { type ExecutionContext } from 'ava';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { medianAndRange, type Range } from '../../../bench/stats.js';
import { barChart, htmlReport, markdownTable, plots, type SuiteReport } from '../../../bench/suite/report.js';
import { hpckvSetup, medianFigures, serverlessSetup, type SuiteRow } from '../../../bench/suite/suite-row.js';
import { runScript, type ScriptResult } from '../../support/run-script.js';

const CLI = fileURLToPath(new URL('../../../bin/hpckv.js', import.meta.url));
const ANCHORS = ['classic-level', 'bare', 'redis', 'redis-aof-everysec'];

/** `hpckv bench ARGS --out <temporary dir>`: its result, and the stem of the files it wrote there. */
async function runBench(t: ExecutionContext, args: string[]): Promise<{ result: ScriptResult; out: string; stem: string; report: SuiteReport }> {
  const out = await mkdtemp(join(tmpdir(), 'hpckv-suite-test-'));
  t.teardown(() => rm(out, { recursive: true, force: true }));
  const result = await runScript(CLI, ['bench', ...args, '--out', out]);
  t.is(result.code, 0, result.stderr);
  const stem = (await readdir(out)).find((f) => f.endsWith('.json'))!.slice(0, -'.json'.length);
  const report = JSON.parse(await readFile(join(out, `${stem}.json`), 'utf8')) as SuiteReport;
  return { result, out, stem, report };
}

/** The anchors a kv row must have: raw classic-level, the bare mechanism, and both Redis set-ups when redis-server is installed. */
function expectedAnchors(result: ScriptResult): string[] {
  return /redis-server is not installed/.test(result.stderr) ? ANCHORS.slice(0, 2) : ANCHORS;
}

function assertWithin(t: ExecutionContext, what: string, median: number, range: Range | undefined): void {
  t.truthy(range, `${what} has a range`);
  t.true(range!.min > 0 && range!.min <= median && median <= range!.max, `${what}: ${range!.min} <= ${median} <= ${range!.max}`);
}

test('medianAndRange: the middle value (the mean of the middle two for an even count), lowest and highest', (t) => {
  t.deepEqual(medianAndRange([5, 1, 3]), { median: 3, range: { min: 1, max: 5 } });
  t.deepEqual(medianAndRange([4, 1, 2, 10]), { median: 3, range: { min: 1, max: 10 } });
  t.deepEqual(medianAndRange([7]), { median: 7, range: { min: 7, max: 7 } });
  t.throws(() => medianAndRange([]), { instanceOf: RangeError });
});

test('medianFigures: medians, ranges and ratios of medians; one round has no range', (t) => {
  t.deepEqual(medianFigures(['hpckv', 'raw'], [[10, 30, 20], [40, 50, 60]], true), {
    rounds: 3, value: 20, range: { min: 10, max: 30 }, anchors: [{ name: 'raw', value: 50, ratio: 0.4, range: { min: 40, max: 60 } }],
  });
  t.deepEqual(medianFigures(['hpckv', 'raw'], [[200], [50]], false), { rounds: 1, value: 200, anchors: [{ name: 'raw', value: 50, ratio: 0.25 }] });
});

/** A report of `rows` as the suite writes it (machine and command made up). */
function reportOf(rows: SuiteRow[]): SuiteReport {
  return {
    machine: { cpuModel: 'cpu', cores: 2, memoryGiB: 1, platform: 'linux', node: 'v20' }, startedAt: 'now', seconds: 1, command: 'npm run bench',
    quick: true, rounds: 3, notes: [], rows,
  };
}

test('markdownTable: what, setup and servers of every row, median (min-max) for hpckv and each anchor, and "1 run" on rows of one run', (t) => {
  const table = markdownTable(reportOf([
    { id: 'bulk-put-64B', section: 'bulk', what: 'putMany of 1000 × 64B', ...hpckvSetup(2, 'unix'), unit: 'records/s', higherIsBetter: true,
      ...medianFigures(['hpckv', 'classic-level'], [[1000, 3000, 2000], [4000, 5000, 6000]], true) },
    { id: 'scan-all-hash', section: 'scan', what: 'full scan | merged', ...hpckvSetup(1, 'tcp'), unit: 'records/s', higherIsBetter: true,
      rounds: 1, value: 500, anchors: [{ name: 'classic-level iterator', value: 1000, ratio: 0.5 }] },
    { id: 'filter-1pct-msgpack', section: 'procedure', what: 'a 1% filter', ...serverlessSetup('isolated-vm sandbox, no server'), unit: 'records/s',
      higherIsBetter: true, rounds: 1, value: 0.005, anchors: [{ name: 'plain JS', value: 0.01, ratio: 0.5 }], extra: { workers: 2, 'waiting share': 0.25 } },
  ]));
  t.true(table.includes('| row | what | setup | servers | unit | hpckv | anchor | anchor value | ratio | also measured |'), table);
  t.true(table.includes('| bulk-put-64B | putMany of 1000 × 64B | hpckv 2 servers, unix socket | 2 | records/s | 2,000 (1,000-3,000) | classic-level | 5,000 (4,000-6,000) | 0.40x |  |'), table);
  t.true(table.includes('| scan-all-hash | full scan \\| merged | hpckv 1 server, tcp socket | 1 | records/s | 500 (1 run) | classic-level iterator | 1,000 | 0.50x |  |'), table);
  // Whole numbers print without decimals, small figures with two significant digits.
  t.true(table.includes('| filter-1pct-msgpack | a 1% filter | isolated-vm sandbox, no server | 0 | records/s | 0.005 (1 run) | plain JS | 0.01 | 0.50x | workers 2, waiting share 0.25 |'), table);
  t.regex(table, /median \(min-max\) of 3 interleaved rounds/);
});

/** The y axis's tick labels, the bars' heights and titles, and the values printed on the bars of an SVG bar chart. */
function chartParts(svg: string): { ticks: string[]; bars: Array<{ height: number; title: string }>; labels: string[] } {
  return {
    ticks: [...svg.matchAll(/<text x="74" y="[\d.]+" text-anchor="end">([^<]*)<\/text>/g)].map((m) => m[1]!),
    bars: [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)" fill="[^"]+"><title>([^<]*)<\/title><\/rect>/g)]
      .map((m) => ({ height: Number(m[1]), title: m[2]! })),
    labels: [...svg.matchAll(/<text class="value"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!),
  };
}

test('plots: the value-size plot has a log axis in decades, every bar prints its value, server counts and axis ticks are whole numbers', (t) => {
  const bulk = (id: string, hpckv: number, raw: number): SuiteRow => ({
    id, section: 'bulk', what: 'w', ...hpckvSetup(2, 'unix'), unit: 'records/s', higherIsBetter: true, rounds: 1, value: hpckv,
    anchors: [{ name: 'classic-level', value: raw, ratio: hpckv / raw }],
  });
  const scaling = (servers: number, value: number): SuiteRow => ({
    id: `scaling-put-${servers}s`, section: 'scaling', what: 'w', ...hpckvSetup(servers, 'unix'), unit: 'records/s', higherIsBetter: true,
    rounds: 1, value, anchors: [{ name: '1 server', value: 20_000, ratio: value / 20_000 }],
  });
  const report = reportOf([bulk('bulk-put-64B', 150_000, 160_000), bulk('bulk-put-4KiB', 20_000, 30_000),
    scaling(1, 20_000), scaling(2, 30_000), scaling(4, 25_000)]);
  const byName = new Map(plots(report).map((plot) => [plot.name, plot.svg]));
  t.deepEqual([...byName.keys()], ['throughput-vs-value-size', 'throughput-vs-servers']);
  const sizes = chartParts(byName.get('throughput-vs-value-size')!);
  t.regex(byName.get('throughput-vs-value-size')!, />records\/s \(log scale\)</);
  t.deepEqual(sizes.ticks, ['10,000', '100,000', '1,000,000']);
  // Plot height 260 px over two decades: a bar stands log10(value / 10,000) / 2 of it.
  t.deepEqual(sizes.bars.map((bar) => bar.title), ['hpckv put-64B: 150,000 records/s', 'classic-level put-64B: 160,000 records/s',
    'hpckv put-4KiB: 20,000 records/s', 'classic-level put-4KiB: 30,000 records/s']);
  for (const [i, value] of [150_000, 160_000, 20_000, 30_000].entries()) {
    t.true(Math.abs(sizes.bars[i]!.height - 260 * Math.log10(value / 10_000) / 2) < 1e-9, `bar ${i}: ${sizes.bars[i]!.height} px`);
  }
  t.deepEqual(sizes.labels, ['150,000', '160,000', '20,000', '30,000']);
  const servers = chartParts(byName.get('throughput-vs-servers')!);
  t.deepEqual(servers.ticks, ['0', '10,000', '20,000', '30,000']);
  t.deepEqual(servers.labels, ['20,000', '30,000', '25,000']);
  t.regex(byName.get('throughput-vs-servers')!, />1 server\(s\)<[\s\S]*>2 server\(s\)<[\s\S]*>4 server\(s\)</);
  const html = htmlReport(report, []);
  t.true(html.includes('<th>setup</th><th>servers</th>'));
  t.true(html.includes('<td>hpckv 4 servers, unix socket</td><td style="text-align:right">4</td>'), html);
  t.false(/servers \d\.\d\d/.test(markdownTable(report) + html), 'no server count printed with decimals');
});

test('barChart: a tick at 0 reads 0; small values get decades on a log axis; a bar too tall for its label above carries it inside', (t) => {
  const linear = chartParts(barChart('t', 'u', ['a', 'b'], [{ name: 's', values: [0.5, 1.5] }]));
  t.deepEqual(linear.ticks, ['0', '1', '2']);
  t.deepEqual(linear.labels, ['0.50', '1.50']);
  const log = chartParts(barChart('t', 'u', ['a', 'b'], [{ name: 's', values: [0.002, 0.5] }], 'log'));
  t.deepEqual(log.ticks, ['0.001', '0.01', '0.10', '1']);
  t.deepEqual(log.labels, ['0.002', '0.50']);
  const svg = barChart('t', 'u', ['a', 'b'], [{ name: 's', values: [10, 100_000] }]);
  t.regex(svg, /<text class="value"[^>]* text-anchor="start">10<\/text>/, 'a short bar: its value above it');
  t.regex(svg, /<text class="value"[^>]* text-anchor="end" fill="#fff">100,000<\/text>/, 'the tallest bar: its value inside its top');
});

test('npm run bench -- --quick --only bulk-put-64B: the median and range of 3 rounds for hpckv and every anchor, the setup, the JSON, Markdown, HTML and plot', async (t) => {
  const { result, out, stem, report } = await runBench(t, ['--quick', '--only', 'bulk-put-64B', '--records', '2000', '--value-sizes', '64']);
  const files = (await readdir(out)).sort();
  t.deepEqual(files, [`${stem}-throughput-vs-value-size.svg`, `${stem}.html`, `${stem}.json`, `${stem}.md`].sort());
  t.deepEqual(report.rows.map((row) => row.id), ['bulk-put-64B'], '--only keeps that row alone');
  t.is(report.rounds, 3, 'three rounds by default');
  const row = report.rows[0]!;
  t.is(row.rounds, 3);
  t.is(row.setup, 'hpckv 2 servers, unix socket', 'the default group: 2 servers over unix sockets');
  t.is(row.servers, 2);
  assertWithin(t, 'hpckv', row.value, row.range);
  // Redis rows run when redis-server is installed, and are skipped with the install hint when not.
  t.deepEqual(row.anchors.map((anchor) => anchor.name), expectedAnchors(result));
  for (const anchor of row.anchors) {
    assertWithin(t, anchor.name, anchor.value, anchor.range);
    t.true(Math.abs(anchor.ratio - row.value / anchor.value) < 1e-9, `${anchor.name}: the ratio of the medians`);
  }
  const markdown = await readFile(join(out, `${stem}.md`), 'utf8');
  t.regex(markdown, /median \(min-max\) of 3 interleaved rounds/);
  t.regex(markdown, /\| bulk-put-64B \| putMany of 1000 × 64B vs [^|]+ \| hpckv 2 servers, unix socket \| 2 \| records\/s \| [\d,]+ \([\d,]+-[\d,]+\) \| classic-level \| [\d,]+ \([\d,]+-[\d,]+\) \| [\d.]+x \|/);
  t.regex(await readFile(join(out, `${stem}.html`), 'utf8'), new RegExp(`<img src="${stem}-throughput-vs-value-size.svg"`));
  t.regex(await readFile(join(out, `${stem}-throughput-vs-value-size.svg`), 'utf8'), /^<svg [^>]*>[\s\S]*<rect [\s\S]*<\/svg>\n$/);
});

test('npm run bench -- --quick --only single-get-1 --servers 1 --transport tcp --rounds 2: that many rounds, the setup, every p50 and p99 with its range', async (t) => {
  const { result, report } = await runBench(t, ['--quick', '--only', 'single-get-1', '--servers', '1', '--transport', 'tcp', '--rounds', '2']);
  t.deepEqual(report.rows.map((row) => row.id), ['single-get-1']);
  const row = report.rows[0]!;
  t.is(row.rounds, 2);
  t.is(row.setup, 'hpckv 1 server, tcp socket');
  assertWithin(t, 'hpckv', row.value, row.range);
  t.deepEqual(row.anchors.map((anchor) => anchor.name), expectedAnchors(result));
  for (const anchor of row.anchors) {
    assertWithin(t, anchor.name, anchor.value, anchor.range);
    t.true(Math.abs(anchor.ratio - anchor.value / row.value) < 1e-9, `${anchor.name}: latency ratio of the medians`);
  }
  const names = ['hpckv', ...expectedAnchors(result)].flatMap((name) => [`${name} p50 µs`, `${name} p99 µs`]);
  t.deepEqual(Object.keys(row.extra ?? {}), names);
  t.deepEqual(Object.keys(row.extraRange ?? {}), names);
  for (const name of names) assertWithin(t, name, row.extra![name]!, row.extraRange![name]);
  t.is(row.extra!['hpckv p50 µs'], row.value, 'one at a time, the row is the p50');
});

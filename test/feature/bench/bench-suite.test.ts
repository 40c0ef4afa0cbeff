// Keeps the bench suite's harness alive: small rows through `npm run bench`, and their outputs.
// It checks the report's structure only, never a timing.
import test, { type ExecutionContext } from 'ava';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { medianAndRange, type Range } from '../../../bench/stats.js';
import { markdownTable, type SuiteReport } from '../../../bench/suite/report.js';
import { medianFigures } from '../../../bench/suite/suite-row.js';
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

test('markdownTable: median (min-max) for hpckv and each anchor, the setup, and "1 run" on rows of one run', (t) => {
  const report: SuiteReport = {
    machine: { cpuModel: 'cpu', cores: 2, memoryGiB: 1, platform: 'linux', node: 'v20' }, startedAt: 'now', seconds: 1, command: 'npm run bench',
    quick: true, rounds: 3, notes: [],
    rows: [
      { id: 'bulk-put-64B', section: 'bulk', what: 'w', setup: 'hpckv 2 servers, unix socket', unit: 'records/s', higherIsBetter: true,
        ...medianFigures(['hpckv', 'classic-level'], [[1000, 3000, 2000], [4000, 5000, 6000]], true) },
      { id: 'scan-all-hash', section: 'scan', what: 'w', setup: 'hpckv 2 servers, unix socket', unit: 'records/s', higherIsBetter: true,
        rounds: 1, value: 500, anchors: [{ name: 'classic-level iterator', value: 1000, ratio: 0.5 }] },
    ],
  };
  const table = markdownTable(report);
  t.true(table.includes('| bulk-put-64B | hpckv 2 servers, unix socket | records/s | 2,000 (1,000-3,000) | classic-level | 5,000 (4,000-6,000) | 0.40x |  |'), table);
  t.true(table.includes('| scan-all-hash | hpckv 2 servers, unix socket | records/s | 500 (1 run) | classic-level iterator | 1,000 | 0.50x |  |'), table);
  t.regex(table, /median \(min-max\) of 3 interleaved rounds/);
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
  assertWithin(t, 'hpckv', row.value, row.range);
  // Redis rows run when redis-server is installed, and are skipped with the install hint when not.
  t.deepEqual(row.anchors.map((anchor) => anchor.name), expectedAnchors(result));
  for (const anchor of row.anchors) {
    assertWithin(t, anchor.name, anchor.value, anchor.range);
    t.true(Math.abs(anchor.ratio - row.value / anchor.value) < 1e-9, `${anchor.name}: the ratio of the medians`);
  }
  const markdown = await readFile(join(out, `${stem}.md`), 'utf8');
  t.regex(markdown, /median \(min-max\) of 3 interleaved rounds/);
  t.regex(markdown, /\| bulk-put-64B \| hpckv 2 servers, unix socket \| records\/s \| [\d,]+ \([\d,]+-[\d,]+\) \| classic-level \| [\d,]+ \([\d,]+-[\d,]+\) \| [\d.]+x \|/);
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

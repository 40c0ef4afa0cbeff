// Keeps the stage-breakdown harness (npm run bench:stages) working: a run with tiny counts, and
// the report's structure. It never asserts a timing.
import test from 'ava';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import type { Profiler } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { classifyFrame, PROFILE_CATEGORIES, summariseProfile } from '../../../bench/stages/profile-summary.js';
import { SCENARIOS } from '../../../bench/stages/request-shapes.js';
import { STAGES, type StageReport } from '../../../bench/stages/stage-report.js';
import { runScript } from '../../support/run-script.js';

const SCRIPT = fileURLToPath(new URL('../../../bench/stage-breakdown.js', import.meta.url));
const TINY = ['--iterations', '128', '--bulk-iterations', '1', '--repetitions', '2', '--e2e-ops', '64', '--e2e-bulk-calls', '1',
  '--rounds', '1', '--floor-samples', '20'];

const finite = (value: number): boolean => Number.isFinite(value);

/** The whole tiny run's bound, in ms. */
const RUN_MS_MAX = 280_000;

test('bench:stages: every scenario has every stage, in order, with finite positive figures, end to end and profiles', async (t) => {
  // It takes about 15 s alone, but with the topology tests beside it on 2 cores twice it was
  // still profiling its first scenario at 110 s (its profiles come last): room to finish.
  t.timeout(RUN_MS_MAX + 20_000);
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-stages-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const json = join(dir, 'stages.json');
  const started = Date.now();
  const result = await runScript(SCRIPT, [...TINY, '--json', json, '--profile', join(dir, 'profiles')], { timeoutMs: RUN_MS_MAX });
  t.is(result.code, 0, `after ${Math.round((Date.now() - started) / 1000)} s:\n${result.stderr}`);
  const report = JSON.parse(await readFile(json, 'utf8')) as StageReport;
  t.true(report.machine.cores > 0);
  t.deepEqual(Object.keys(report.transportFloor), ['echo-4KiB', 'echo-32B', 'bulk-put-4KiB', 'bulk-put-64B']);
  for (const floor of Object.values(report.transportFloor)) t.true(finite(floor.oneInFlightP50Us) && floor.oneInFlightP50Us > 0);
  t.deepEqual(report.scenarios.map((s) => s.id), SCENARIOS.map((s) => s.id));
  for (const scenario of report.scenarios) {
    t.true(result.stdout.includes(scenario.title), `${scenario.id}: its table is printed`);
    t.deepEqual(scenario.stages.map((s) => s.id), STAGES.map((s) => s.id), `${scenario.id}: every stage, in order`);
    for (const stage of scenario.stages) {
      const what = `${scenario.id} / ${stage.id}`;
      // A get takes no lock and changes no stats: those two rows say n/a, every other row has a figure.
      const absent = scenario.id.startsWith('get') && (stage.id === 'lock' || stage.id === 'stats-filter');
      if (absent) {
        t.is(stage.usPerOp, null, what);
        t.is(stage.cpuUsPerOp, null, what);
        continue;
      }
      t.true(stage.usPerOp !== null && finite(stage.usPerOp) && stage.usPerOp > 0, `${what}: wall ${stage.usPerOp}`);
      // CPU time is counted in whole µs (and the floor's other side in 10 ms ticks): it may round to 0 in a tiny run.
      t.true(stage.cpuUsPerOp !== null && finite(stage.cpuUsPerOp) && stage.cpuUsPerOp >= 0, `${what}: CPU ${stage.cpuUsPerOp}`);
      if (stage.id === 'transport') t.is(stage.range, null, what);
      else t.true(stage.range !== null && stage.range.min <= stage.usPerOp! && stage.usPerOp! <= stage.range.max, `${what}: range`);
    }
    const { sums } = scenario;
    for (const [name, value] of Object.entries(sums)) t.true(finite(value) && value > 0, `${scenario.id}: sum ${name} ${value}`);
    const now = scenario.endToEnd['now']!;
    t.deepEqual(Object.keys(scenario.endToEnd), ['now']);
    t.true(finite(now.figure) && now.figure > 0 && finite(now.wallUsPerOp) && now.wallUsPerOp > 0, `${scenario.id}: end to end`);
    // Server CPU comes in 10 ms ticks: a tiny run may see none.
    t.true(finite(now.clientCpuUsPerOp) && now.clientCpuUsPerOp > 0 && finite(now.serverCpuUsPerOp) && now.serverCpuUsPerOp >= 0);
    const profile = scenario.profile!;
    for (const side of [profile.client, profile.server]) {
      t.deepEqual(side.shares.map((s) => s.category), [...PROFILE_CATEGORIES], `${scenario.id}: every category`);
      t.true(side.samples > 0, `${scenario.id}: samples`);
      const self = side.shares.reduce((total, s) => total + s.selfPercent, 0);
      t.true(Math.abs(self - 100) < 1e-6, `${scenario.id}: self shares add up to 100 (${self})`);
      for (const share of side.shares) t.true(share.inclusivePercent >= share.selfPercent - 1e-9 && share.inclusivePercent <= 100 + 1e-9);
    }
    t.true(profile.server.windowed, `${scenario.id}: the server profile is cut to the client's window`);
    await access(profile.files.client);
    await access(profile.files.server);
  }
});

test('classifyFrame: hpckv files and msgpackr by stage, V8 pseudo-frames as themselves, unknown frames as their callers', (t) => {
  const dist = 'file:///x/dist';
  t.is(classifyFrame('encodeFrameChunks', `${dist}/core/wire/tail-frames.js`), 'encode');
  t.is(classifyFrame('decodeFramePayload', `${dist}/core/wire/tail-frames.js`), 'decode');
  t.is(classifyFrame('push', `${dist}/core/wire/frame-codec.js`), 'decode');
  t.is(classifyFrame('unpackList', `${dist}/core/wire/packed-list.js`), 'validate');
  t.is(classifyFrame('validatePutRequest', `${dist}/core/protocol/validate/kv-requests.js`), 'validate');
  t.is(classifyFrame('validateKey', `${dist}/core/protocol/validate/request-fields.js`), 'validate');
  t.is(classifyFrame('acquire', `${dist}/server/key-locks.js`), 'lock');
  t.is(classifyFrame('add', `${dist}/server/key-filter.js`), 'stats/filter');
  t.is(classifyFrame('#writeNext', `${dist}/server/group-commit.js`), 'store');
  t.is(classifyFrame('_write', 'file:///x/node_modules/classic-level/chained-batch.js'), 'store');
  t.is(classifyFrame('pack', 'file:///x/node_modules/msgpackr/dist/node.cjs'), 'encode');
  t.is(classifyFrame('unpack', 'file:///x/node_modules/msgpackr/dist/node.cjs'), 'decode');
  t.is(classifyFrame('writevGeneric', 'node:internal/stream_base_commons'), 'socket');
  t.is(classifyFrame('writev', ''), 'socket');
  t.is(classifyFrame('(idle)', ''), '(idle)');
  t.is(classifyFrame('(garbage collector)', ''), '(garbage collector)');
  t.is(classifyFrame('addChunk', 'node:internal/streams/readable'), null);
  t.is(classifyFrame('anything', 'file:///elsewhere/app.js'), null);
});

test('summariseProfile: self time to the nearest named frame, inclusive to every category on the stack, window by timestamps', (t) => {
  const frame = (functionName: string, url: string): Profiler.ProfileNode['callFrame'] => ({ functionName, url, scriptId: '0', lineNumber: 0, columnNumber: 0 });
  const dist = 'file:///x/dist';
  const profile: Profiler.Profile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 5] },
      { id: 2, callFrame: frame('onStreamRead', 'node:internal/stream_base_commons'), children: [3] },
      { id: 3, callFrame: frame('decodeFramePayload', `${dist}/core/wire/tail-frames.js`), children: [4] },
      { id: 4, callFrame: frame('read', 'file:///x/node_modules/msgpackr/unpack.js') },
      { id: 5, callFrame: frame('(idle)', '') },
    ],
    // Samples at 10, 20, 30, 40 µs: decode (msgpackr), decode, idle, idle.
    samples: [4, 3, 5, 5], timeDeltas: [10, 10, 10, 10], startTime: 0, endTime: 40,
  };
  const whole = summariseProfile(profile);
  const share = (summary: typeof whole, category: string): { selfPercent: number; inclusivePercent: number } =>
    summary.shares.find((s) => s.category === category)!;
  t.is(whole.samples, 4);
  t.false(whole.windowed);
  t.is(share(whole, 'decode').selfPercent, 50);
  t.is(share(whole, 'socket').selfPercent, 0);
  t.is(share(whole, 'socket').inclusivePercent, 50);
  t.is(share(whole, '(idle)').selfPercent, 50);
  const windowed = summariseProfile(profile, { start: 25, end: 45 });
  t.true(windowed.windowed);
  t.is(windowed.samples, 2);
  t.is(share(windowed, '(idle)').selfPercent, 100);
  // A window no sample falls in (clocks not comparable): the whole profile, and it says so.
  const outside = summariseProfile(profile, { start: 1000, end: 2000 });
  t.false(outside.windowed);
  t.is(outside.samples, 4);
});

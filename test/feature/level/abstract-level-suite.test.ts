import test from 'ava';
import { fileURLToPath } from 'node:url';
import { runScript, type ScriptResult } from '../../support/run-script.js';

/**
 * abstract-level's own test suite (abstract-level/test on tape, 1358 tests for HpcLevel's
 * manifest) run against HpcLevel on three topologies, each in a child process
 * (test/support/fixtures/level-suite.ts): a hash group and a range group of real server processes on
 * Unix sockets, and two server ranks over the in-process transport. Each run prints its
 * `TOPOLOGY: N passed, N failed` line, which is echoed here.
 */
/** One topology's run takes about 10 s alone on 2 cores, several times that beside the rest of npm test. */
const RUN_TIMEOUT_MS = 170_000;

const FIXTURE = fileURLToPath(new URL('../../support/fixtures/level-suite.js', import.meta.url));

function runSuite(topology: string): Promise<ScriptResult> {
  return runScript(FIXTURE, [topology], { timeoutMs: RUN_TIMEOUT_MS });
}

function count(stdout: string, pattern: RegExp): number | undefined {
  const match = pattern.exec(stdout);
  return match === null ? undefined : Number(match[1]);
}

for (const topology of ['hash', 'range', 'inproc']) {
  // One topology at a time: each run starts its own servers, and three at once starve a 2-core machine.
  test.serial(`abstract-level's suite passes on HpcLevel (${topology})`, async (t) => {
    t.timeout(RUN_TIMEOUT_MS + 10_000);
    const run = await runSuite(topology);
    const summary = new RegExp(`^${topology}: (\\d+) passed, (\\d+) failed$`, 'm').exec(run.stdout);
    t.truthy(summary, `no summary line; exit ${run.code}\n${run.stdout.slice(-4000)}\n${run.stderr.slice(-4000)}`);
    if (summary === null) return;
    console.log(summary[0]);
    const passed = Number(summary[1]);
    const failed = Number(summary[2]);
    t.is(failed, 0, run.stdout.split('\n').filter((line) => line.startsWith('not ok')).slice(0, 20).join('\n'));
    t.true(passed > 0);
    // Every test the suite defines for HpcLevel's manifest ran: none skipped beyond what the manifest declares.
    const registered = count(run.stdout, /^registered: (\d+)$/m);
    t.true(registered !== undefined && registered > 1000, `registered: ${registered}`);
    t.is(count(run.stdout, /^ran: (\d+)$/m), registered);
    t.is(count(run.stdout, /^skipped: (\d+)$/m), undefined, 'no assertion was skipped');
    const records = /^records by server: ([\d ]+)$/m.exec(run.stdout)?.[1]?.split(' ').map(Number) ?? [];
    t.is(records.length, topology === 'range' ? 4 : topology === 'hash' ? 3 : 2);
    t.true(records.every((n) => n > 0), `every server held keys of the suite's databases: ${records.join(' ')}`);
    t.is(run.code, 0, run.stderr.slice(-4000));
  });
}

// One sandbox process dies under several jobs: only the culprit's job fails.
import test from 'ava';
import { HpckvError } from '../../../core/errors.js';
import type { ProcedureSpec } from '../../../core/procedure-spec.js';
import { SandboxLost, type JobBudget, type ProcedureJob, type SandboxPool } from '../../../procedures/sandbox-pool.js';
import { BUDGET, bytes, newPool } from './helpers.js';

const ENTRIES = { keys: ['a', 'b', 'c', 'd'].map(bytes), values: ['1', '22', '333', '4444'].map(bytes) };
const BOMB: ProcedureSpec = { kind: 'filter', source: '() => new Array(2 ** 28).fill(0).length > 0' };
const SUM_OF_LENGTHS: ProcedureSpec = { kind: 'reduce', source: '({ init: () => 0, step: (acc, key, value) => acc + value.length, combine: (a, b) => a + b })' };

async function start(pool: SandboxPool, spec: ProcedureSpec, args: unknown = null, budget: JobBudget = BUDGET): Promise<ProcedureJob> {
  return pool.startJob(await pool.register(spec), args, budget);
}

test('a memory bomb fails its own job; the filter and map queued behind it in the same process run again in the replacement, a reduce is told its isolate was lost', async (t) => {
  const pool = await newPool('bytes', 1);
  t.teardown(() => pool.close());
  const bomb = await start(pool, BOMB);
  const filter = await start(pool, { kind: 'filter', source: '(key, value) => value.length % 2 === 0' });
  const map = await start(pool, { kind: 'map', source: '(key, value, args) => ({ value: args.prefix + hpckv.utf8(value) })' }, { prefix: 'm:' });
  const reduce = await start(pool, SUM_OF_LENGTHS);
  // One isolate, calls run in the order sent: the bomb runs first, the others wait behind it in its process.
  const bombed = bomb.filter(ENTRIES);
  const filtered = filter.filter(ENTRIES);
  const mapped = map.map(ENTRIES);
  const stepped = reduce.step(ENTRIES);
  const stepsAfter = reduce.step(ENTRIES);
  await t.throwsAsync(bombed, { code: 'HPCKV_ERR_PROCEDURE_MEMORY' });
  t.false(await bombed.catch((error: unknown) => error instanceof SandboxLost), 'the culprit gets its own error, not the bystanders\'');
  t.deepEqual(await filtered, [1, 3]);
  t.deepEqual((await mapped).map((out) => [out.index, out.key, Buffer.from(out.value).toString()]),
    [[0, null, 'm:1'], [1, null, 'm:22'], [2, null, 'm:333'], [3, null, 'm:4444']]);
  await t.throwsAsync(stepped, { instanceOf: SandboxLost, code: 'HPCKV_ERR_PROCEDURE_MEMORY' });
  await t.throwsAsync(stepsAfter, { instanceOf: SandboxLost });
  t.is(pool.stats.isolatesReplaced, 1);
  // The bomb's job stays failed and is not started again in the replacement; a new reduce runs there.
  await t.throwsAsync(bomb.filter(ENTRIES), { code: 'HPCKV_ERR_PROCEDURE_MEMORY', instanceOf: HpckvError });
  t.false(await bomb.filter(ENTRIES).catch((error: unknown) => error instanceof SandboxLost));
  const again = await start(pool, SUM_OF_LENGTHS);
  await again.step(ENTRIES);
  t.is(await again.result(), 10);
  t.is(pool.stats.isolatesReplaced, 1, 'the bomb did not go off again');
  for (const job of [bomb, filter, map, reduce, again]) job.dispose();
});

test('a job started again after a loss keeps the CPU it had used: the budget is the job\'s', async (t) => {
  const pool = await newPool('bytes', 1);
  t.teardown(() => pool.close());
  // Slow on the entry "slow" only: the call sent again after the loss costs next to nothing.
  const source = '(key) => { if (hpckv.utf8(key) === "slow") { let x = 0; for (let i = 0; i < 2e7; i++) x += i & 1; } return true; }';
  const job = await start(pool, { kind: 'filter', source });
  t.deepEqual(await job.filter({ keys: [bytes('slow')], values: [bytes('v')] }), [0]);
  const before = job.cpuMs;
  t.true(before > 5, `the slow call used ${before} ms`);
  const bomb = await start(pool, BOMB);
  const bombed = bomb.filter(ENTRIES);
  const retried = job.filter(ENTRIES);
  await t.throwsAsync(bombed, { code: 'HPCKV_ERR_PROCEDURE_MEMORY' });
  t.deepEqual(await retried, [0, 1, 2, 3]);
  t.is(pool.stats.isolatesReplaced, 1);
  // Not carried, the job's CPU would be the fast call's alone, far below the slow call's.
  t.true(job.cpuMs >= before, `${job.cpuMs} ms after the loss, ${before} ms before it`);
  for (const each of [job, bomb]) each.dispose();
});

test('a call the watchdog kills its process for fails with PROCEDURE_TIMEOUT alone; the calls queued behind it run again or are told', async (t) => {
  const pool = await newPool('bytes', 1);
  t.teardown(() => pool.close());
  // A loop inside a builtin that never looks for termination and allocates nothing: only the host's watchdog ends it.
  const stuck = await start(pool, { kind: 'filter', source: '() => Array.prototype.indexOf.call({ length: 2 ** 40 }, 1) >= 0' }, null,
    { cpuMsMax: 60_000, wallMsMax: 200 });
  const filter = await start(pool, { kind: 'filter', source: '(key, value) => value.length > 2' });
  const reduce = await start(pool, SUM_OF_LENGTHS);
  const stuckCall = stuck.filter(ENTRIES);
  const filtered = filter.filter(ENTRIES);
  const stepped = reduce.step(ENTRIES);
  await t.throwsAsync(stuckCall, { code: 'HPCKV_ERR_PROCEDURE_TIMEOUT', message: /did not answer within 10200 ms/ });
  t.deepEqual(await filtered, [2, 3]);
  await t.throwsAsync(stepped, { instanceOf: SandboxLost });
  t.is(pool.stats.isolatesReplaced, 1);
  for (const job of [stuck, filter, reduce]) job.dispose();
});

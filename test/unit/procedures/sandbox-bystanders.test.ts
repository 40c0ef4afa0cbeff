// One sandbox process dies under several jobs: only the culprit's job fails.
import test from 'ava';
import { SandboxLost } from '../../../procedures/sandbox-pool.js';
import { BUDGET, bytes, newPool } from './helpers.js';

const ENTRIES = { keys: ['a', 'b', 'c', 'd'].map(bytes), values: ['1', '22', '333', '4444'].map(bytes) };

test('a memory bomb fails its own job; the filter and map queued behind it in the same process run again in the replacement, a reduce is told its isolate was lost', async (t) => {
  const pool = await newPool('bytes', 1);
  t.teardown(() => pool.close());
  const bomb = await pool.startJob(await pool.register({ kind: 'filter', source: '() => new Array(2 ** 28).fill(0).length > 0' }), null, BUDGET);
  const filter = await pool.startJob(await pool.register({ kind: 'filter', source: '(key, value) => value.length % 2 === 0' }), null, BUDGET);
  const map = await pool.startJob(await pool.register({ kind: 'map', source: '(key, value, args) => ({ value: args.prefix + hpckv.utf8(value) })' }),
    { prefix: 'm:' }, BUDGET);
  const reduce = await pool.startJob(await pool.register({
    kind: 'reduce', source: '({ init: () => 0, step: (acc, key, value) => acc + value.length, combine: (a, b) => a + b })',
  }), null, BUDGET);
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
  // The bomb's job stays failed (in its process or the next); a new reduce runs in the replacement.
  await t.throwsAsync(bomb.filter(ENTRIES), { code: 'HPCKV_ERR_PROCEDURE_MEMORY' });
  const again = await pool.startJob(await pool.register({
    kind: 'reduce', source: '({ init: () => 0, step: (acc, key, value) => acc + value.length, combine: (a, b) => a + b })',
  }), null, BUDGET);
  await again.step(ENTRIES);
  t.is(await again.result(), 10);
  for (const job of [bomb, filter, map, reduce, again]) job.dispose();
});

test('a job started again after a loss keeps the CPU it had used: the budget is the job\'s', async (t) => {
  const pool = await newPool('bytes', 1);
  t.teardown(() => pool.close());
  // Slow on the entry "slow" only: the call sent again after the loss costs next to nothing.
  const source = '(key) => { if (hpckv.utf8(key) === "slow") { let x = 0; for (let i = 0; i < 2e7; i++) x += i & 1; } return true; }';
  const job = await pool.startJob(await pool.register({ kind: 'filter', source }), null, BUDGET);
  t.deepEqual(await job.filter({ keys: [bytes('slow')], values: [bytes('v')] }), [0]);
  const before = job.cpuMs;
  t.true(before > 5, `the slow call used ${before} ms`);
  const bomb = await pool.startJob(await pool.register({ kind: 'filter', source: '() => new Array(2 ** 28).fill(0).length > 0' }), null, BUDGET);
  const bombed = bomb.filter(ENTRIES);
  const retried = job.filter(ENTRIES);
  await t.throwsAsync(bombed, { code: 'HPCKV_ERR_PROCEDURE_MEMORY' });
  t.deepEqual(await retried, [0, 1, 2, 3]);
  t.is(pool.stats.isolatesReplaced, 1);
  // Not carried, the job's CPU would be the fast call's alone, far below the slow call's.
  t.true(job.cpuMs >= before, `${job.cpuMs} ms after the loss, ${before} ms before it`);
  for (const each of [job, bomb]) each.dispose();
});

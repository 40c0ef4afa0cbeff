// The sandbox's rules: no host reach, determinism, budgets, memory bombs, registration cache.
import test from 'ava';
import { SandboxPool } from '../../../procedures/sandbox-pool.js';
import { BUDGET, bytes, newPool } from './helpers.js';

const ONE = { keys: [bytes('k')], values: [bytes('v')] };

/** Runs `body` as a filter over one entry; the filter returns true when `body` returns true. */
async function runFilter(pool: SandboxPool, body: string, budget = BUDGET): Promise<number[]> {
  const job = await pool.startJob(await pool.register({ kind: 'filter', source: `(key, value, args) => { ${body} }` }), null, budget);
  try {
    return await job.filter(ONE);
  } finally {
    job.dispose();
  }
}

test('the host event loop stays free while a slow batch runs', async (t) => {
  const pool = await newPool();
  t.teardown(() => pool.close());
  const hash = await pool.register({ kind: 'filter', source: '(k, v) => { let x = 0; for (let i = 0; i < 3e8; i++) x += i & 1; return x > 0; }' });
  const job = await pool.startJob(hash, null, BUDGET);
  let finished = false;
  let ticksDuringBatch = 0;
  const tick = (): void => {
    if (finished) return;
    ticksDuringBatch++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const start = process.hrtime.bigint();
  t.deepEqual(await job.filter(ONE), [0]);
  finished = true;
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  t.true(ms > 50, `the batch took ${ms} ms`);
  t.true(ticksDuringBatch > 10, `setImmediate ran ${ticksDuringBatch} times during the batch`);
  t.true(job.cpuMs > 50);
});

test('no host globals, no clock, no randomness, no timers, no eval, no import()', async (t) => {
  const pool = await newPool();
  t.teardown(() => pool.close());
  for (const name of ['require', 'process', 'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'fetch', 'eval', 'performance',
    'console', 'SharedArrayBuffer', 'Atomics', 'WebAssembly', 'Intl', 'WeakRef', 'FinalizationRegistry', 'module', 'Buffer']) {
    t.deepEqual(await runFilter(pool, `return typeof globalThis[${JSON.stringify(name)}] === 'undefined';`), [0], name);
  }
  t.deepEqual(await runFilter(pool, 'return Math.random === undefined && Date.now === undefined;'), [0]);
  await t.throwsAsync(runFilter(pool, 'new Date(); return true;'), { code: 'HPCKV_ERR_PROCEDURE_FAILED', message: /no clock/ });
  await t.throwsAsync(runFilter(pool, 'Date(); return true;'), { code: 'HPCKV_ERR_PROCEDURE_FAILED', message: /no clock/ });
  t.deepEqual(await runFilter(pool, 'return new Date(86400000).toISOString() === "1970-01-02T00:00:00.000Z";'), [0]);
  t.deepEqual(await runFilter(pool, 'return typeof hpckv.decodeMsgpack === "function" && Object.isFrozen(hpckv);'), [0]);
  // import() has no loader: a promise that rejects, which is not a boolean.
  await t.throwsAsync(runFilter(pool, 'return import("node:fs");'), { code: 'HPCKV_ERR_PROCEDURE_FAILED', message: /true or false, got object/ });
});

test('escape attempts fail and leave the host untouched', async (t) => {
  const pool = await newPool();
  t.teardown(() => pool.close());
  await t.throwsAsync(runFilter(pool, 'return typeof this.constructor.constructor("return process")().pid === "number";'),
    { code: 'HPCKV_ERR_PROCEDURE_FAILED' });
  t.deepEqual(await runFilter(pool, 'return ({}).constructor.constructor("return typeof process")() === "undefined";'), [0]);
  t.deepEqual(await runFilter(pool, 'return (function () { return typeof this; })() === "undefined" || (function () { return this; })() === globalThis;'), [0]);
  t.deepEqual(await runFilter(pool, 'Object.prototype.polluted = 1; Array.prototype.evil = 2; return ({}).polluted === 1;'), [0]);
  t.is(({} as Record<string, unknown>)['polluted'], undefined);
  t.is(([] as unknown as Record<string, unknown>)['evil'], undefined);
  // A new job has a fresh context: the pollution of the last one is gone.
  t.deepEqual(await runFilter(pool, 'return ({}).polluted === undefined;'), [0]);
  t.deepEqual(await runFilter(pool, 'return Object.getOwnPropertyNames(globalThis).every((n) => !/^(process|require|global|Buffer)$/.test(n));'), [0]);
});

test('budgets: an endless loop times out, CPU over the job budget fails, the pool runs on', async (t) => {
  const pool = await newPool();
  t.teardown(() => pool.close());
  const timeout = await t.throwsAsync(runFilter(pool, 'for (;;) {}', { cpuMsMax: 10_000, wallMsMax: 200 }));
  t.is((timeout as { code?: string }).code, 'HPCKV_ERR_PROCEDURE_TIMEOUT');
  t.like((timeout as { details?: unknown }).details, { limit: 'procedureWallMsMax', wallMsMax: 200 });
  // A cheap batch passes, then heavy ones (work grows with the value's length) exhaust a 100 ms job budget.
  const hash = await pool.register({ kind: 'filter', source: '(k, v) => { let x = 0; for (let i = 0; i < v.length * 1e6; i++) x += i & 1; return x >= 0; }' });
  const job = await pool.startJob(hash, null, { cpuMsMax: 100, wallMsMax: 5000 });
  t.deepEqual(await job.filter(ONE), [0]);
  const heavy = { keys: [bytes('k')], values: [new Uint8Array(40)] };
  let error: unknown;
  let batches = 0;
  try {
    for (; batches < 50; batches++) await job.filter(heavy);
  } catch (e) {
    error = e;
  }
  t.like(error, { code: 'HPCKV_ERR_PROCEDURE_BUDGET', details: { limit: 'procedureCpuMsMax', cpuMsMax: 100 } });
  t.true(batches < 50, `${batches} heavy batches passed`);
  t.true(job.cpuMs >= 50, `cpuMs ${job.cpuMs}`);
  await t.throwsAsync(job.filter(ONE), { code: 'HPCKV_ERR_PROCEDURE_BUDGET' }); // the job stays failed
  t.deepEqual(await runFilter(pool, 'return true;'), [0]);
});

test('failures: throw, deep recursion and wrong shapes are PROCEDURE_FAILED with the message', async (t) => {
  const pool = await newPool();
  t.teardown(() => pool.close());
  await t.throwsAsync(runFilter(pool, 'throw new Error("bad record");'), { code: 'HPCKV_ERR_PROCEDURE_FAILED', message: /Error: bad record/ });
  await t.throwsAsync(runFilter(pool, 'const f = (n) => f(n + 1) + 1; return f(0) > 0;'),
    { code: 'HPCKV_ERR_PROCEDURE_FAILED', message: /RangeError: Maximum call stack size exceeded/ });
  await t.throwsAsync(runFilter(pool, 'return 1;'), { code: 'HPCKV_ERR_PROCEDURE_FAILED', message: /true or false, got number/ });
  for (const [source, why] of [['() => 5', /got number/], ['() => ({ value: 5 })', /value is a Uint8Array or a string/],
    ['() => ({ key: 3, value: "x" })', /key is a Uint8Array or a string/]] as const) {
    const job = await pool.startJob(await pool.register({ kind: 'map', source }), null, BUDGET);
    const error = await t.throwsAsync(job.map(ONE), { code: 'HPCKV_ERR_PROCEDURE_FAILED', message: why });
    t.is((error as { details?: { entry?: number } }).details?.entry, 0);
  }
  const reduce = await pool.startJob(await pool.register({ kind: 'reduce', source: '({ init: () => () => 1, step: (a) => a, combine: (a) => a })' }), null, BUDGET);
  await t.throwsAsync(reduce.result(), { code: 'HPCKV_ERR_PROCEDURE_FAILED', message: /could not be cloned/ });
  await t.throwsAsync(pool.startJob('0'.repeat(64), null, BUDGET), { code: 'HPCKV_ERR_UNKNOWN_PROCEDURE' });
});

test('memory bombs are PROCEDURE_MEMORY, the isolate is replaced and the next job runs', async (t) => {
  const pool = await newPool();
  t.teardown(() => pool.close());
  await t.throwsAsync(runFilter(pool, 'const a = []; for (;;) a.push({ x: [1, 2, 3] });'), { code: 'HPCKV_ERR_PROCEDURE_MEMORY' });
  t.deepEqual(await runFilter(pool, 'return true;'), [0]);
  await t.throwsAsync(runFilter(pool, 'return new Array(2 ** 28).fill(0).length > 0;'), { code: 'HPCKV_ERR_PROCEDURE_MEMORY' });
  t.deepEqual(await runFilter(pool, 'return true;'), [0]);
  await t.throwsAsync(runFilter(pool, 'return new Uint8Array(2 ** 31).length > 0;'), { code: 'HPCKV_ERR_PROCEDURE_MEMORY' });
  t.is(pool.stats.isolatesReplaced, 2); // the array buffer is refused by the allocator: that isolate lives on
  t.deepEqual(await runFilter(pool, 'return true;'), [0]);
});

test('string bombs are PROCEDURE_MEMORY: past V8\'s longest string the isolate lives on; a builtin growing past the isolate\'s memory ends it before the watchdog', async (t) => {
  const pool = await newPool();
  t.teardown(() => pool.close());
  await t.throwsAsync(runFilter(pool, 'let s = "x"; for (;;) s += s;'),
    { code: 'HPCKV_ERR_PROCEDURE_MEMORY', message: /RangeError: Invalid string length/ });
  t.is(pool.stats.isolatesReplaced, 0);
  // The replace builds its result in a loop that checks neither the timeout nor the heap limit;
  // the sandbox process sees the call overdue and grown past the isolate's 32 MiB, long before
  // the host's watchdog (wall time + 10 s) would call it a timeout.
  const wallMsMax = 500;
  const error = await t.throwsAsync(runFilter(pool, 'return "x".repeat(2 ** 25).replace(/x/g, "yy").length > 0;', { cpuMsMax: 10_000, wallMsMax }),
    { code: 'HPCKV_ERR_PROCEDURE_MEMORY', message: /ran past its 500 ms and grew its sandbox process by \d+ MiB/ });
  t.is((error as { details?: { limit?: string } }).details?.limit, 'procedureIsolateMemoryMbMax');
  t.is(pool.stats.isolatesReplaced, 1);
  t.deepEqual(await runFilter(pool, 'return true;'), [0]);
});

test('registration: syntax and shape errors, cache hits, LRU eviction', async (t) => {
  const pool = await newPool();
  t.teardown(() => pool.close());
  await t.throwsAsync(pool.register({ kind: 'filter', source: '(k, v) => {' }), { code: 'HPCKV_ERR_PROCEDURE_SYNTAX', message: /Unexpected/ });
  await t.throwsAsync(pool.register({ kind: 'reduce', source: '({ init() {}, combine() {} })' }), { code: 'HPCKV_ERR_PROCEDURE_SYNTAX', message: /step/ });
  await t.throwsAsync(pool.register({ kind: 'map', source: '42' }), { code: 'HPCKV_ERR_PROCEDURE_SYNTAX', message: /function/ });
  const spec = { kind: 'filter' as const, source: '() => true' };
  const hash = await pool.register(spec);
  const compiled = pool.stats.compiled;
  t.is(await pool.register({ ...spec }), hash);
  t.is(pool.stats.compiled, compiled);
  t.is(pool.stats.registrationHits, 1);
  t.true(pool.knows(hash));
  const job = await pool.startJob(hash, null, BUDGET); // compiled already in this (only) isolate
  t.is(pool.stats.compiled, compiled);
  job.dispose();
  for (let i = 0; i < 4; i++) await pool.register({ kind: 'filter', source: `() => ${i} > 0` }); // compiledProceduresMax = 4
  t.false(pool.knows(hash));
  await t.throwsAsync(pool.startJob(hash, null, BUDGET), { code: 'HPCKV_ERR_UNKNOWN_PROCEDURE' });
});

// Filter, map and reduce in the sandbox against the same functions on the host; helpers; combine.
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import test from 'ava';
import { Packr } from 'msgpackr';
import { keyCodec, parseKeyType, type KeyValue } from '../../../core/keys/index.js';
import { checkProcedureSpec, procedureHash } from '../../../procedures/procedure-spec.js';
import { BUDGET, bytes, newPool, seeded } from './helpers.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });

function randomBatch(seed: number, n: number): { keys: Uint8Array[]; values: Uint8Array[] } {
  const r = seeded(seed);
  const keys: Uint8Array[] = [];
  const values: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    keys.push(Uint8Array.from({ length: 1 + Math.floor(r() * 12) }, () => Math.floor(r() * 256)));
    values.push(Uint8Array.from({ length: Math.floor(r() * 40) }, () => Math.floor(r() * 256)));
  }
  return { keys, values };
}

const FILTER = '(key, value, args) => value.length > args.min && key[0] % 2 === 0';
const MAP = '(key, value, args) => value.length % 3 === 0 ? undefined : { key: key.length > 5 ? key.slice(1) : undefined, value: value.length % 3 === 1 ? value.slice(0, args.cut) : "n" + value.length }';
const REDUCE = '({ init: (args) => ({ n: 0, bytes: args.base, max: 0 }), step: (acc, key, value) => ({ n: acc.n + 1, bytes: acc.bytes + value.length, max: Math.max(acc.max, key[0]) }), combine: (a, b) => ({ n: a.n + b.n, bytes: a.bytes + b.bytes, max: Math.max(a.max, b.max) }) })';
// eslint-disable-next-line no-eval
const host = <T>(source: string): T => (0, eval)(`(${source})`) as T;

test('spec: hash is SHA-256 of kind and source, and bad shapes are BAD_REQUEST', (t) => {
  t.is(procedureHash({ kind: 'filter', source: 'x' }), createHash('sha256').update('filter\nx').digest('hex'));
  t.not(procedureHash({ kind: 'filter', source: 'x' }), procedureHash({ kind: 'map', source: 'x' }));
  t.deepEqual(checkProcedureSpec({ kind: 'map', source: 'f' }), { kind: 'map', source: 'f' });
  for (const bad of [null, 3, { kind: 'sort', source: 'f' }, { kind: 'map' }, { kind: 'map', source: '  ' }]) {
    t.throws(() => checkProcedureSpec(bad), { code: 'HPCKV_ERR_BAD_REQUEST' });
  }
});

test('filter, map and reduce equal the host functions over seeded random batches', async (t) => {
  const pool = await newPool('bytes', 2);
  t.teardown(() => pool.close());
  const args = { min: 10, cut: 4, base: 7 };
  const batches = [randomBatch(1, 1000), randomBatch(2, 1000), randomBatch(3, 17)];
  const filterJob = await pool.startJob(await pool.register({ kind: 'filter', source: FILTER }), args, BUDGET);
  const mapJob = await pool.startJob(await pool.register({ kind: 'map', source: MAP }), args, BUDGET);
  const reduceJob = await pool.startJob(await pool.register({ kind: 'reduce', source: REDUCE }), args, BUDGET);
  const hostFilter = host<(k: Uint8Array, v: Uint8Array, a: unknown) => boolean>(FILTER);
  const hostMap = host<(k: Uint8Array, v: Uint8Array, a: unknown) => { key?: Uint8Array; value: Uint8Array | string } | undefined>(MAP);
  const hostReduce = host<{ init(a: unknown): unknown; step(acc: unknown, k: Uint8Array, v: Uint8Array): unknown; combine(a: unknown, b: unknown): unknown }>(REDUCE);
  let acc = hostReduce.init(args);
  for (const batch of batches) {
    const expectedFilter = batch.keys.map((_, i) => i).filter((i) => hostFilter(batch.keys[i]!, batch.values[i]!, args));
    t.deepEqual(await filterJob.filter(batch), expectedFilter);
    const expectedMap = batch.keys.flatMap((k, i) => {
      const out = hostMap(k, batch.values[i]!, args);
      if (out === undefined) return [];
      const value = typeof out.value === 'string' ? new Uint8Array(Buffer.from(out.value)) : new Uint8Array(out.value);
      return [{ index: i, key: out.key === undefined ? null : new Uint8Array(out.key), value }];
    });
    const got = (await mapJob.map(batch)).map((o) => ({ index: o.index, key: o.key === null ? null : new Uint8Array(o.key), value: new Uint8Array(o.value) }));
    t.deepEqual(got, expectedMap);
    await reduceJob.step(batch);
    batch.keys.forEach((k, i) => { acc = hostReduce.step(acc, k, batch.values[i]!); });
  }
  t.deepEqual(await reduceJob.result(), acc);
  t.true(filterJob.cpuMs > 0);
  // Determinism: the same batch twice gives the same output.
  t.deepEqual(await filterJob.filter(batches[0]!), await filterJob.filter(batches[0]!));
  filterJob.dispose();
  mapJob.dispose();
  reduceJob.dispose();
});

test('hpckv.decodeMsgpack matches msgpackr for every type and int width, nested maps included', async (t) => {
  const pool = await newPool();
  t.teardown(() => pool.close());
  const values: unknown[] = [
    null, true, false, 0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -32, -33, -128, -129,
    -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 53 - 1), 0.5, -1.25e300, 3.4e38, '', 'a', 'x'.repeat(31), 'y'.repeat(32),
    'z'.repeat(300), 'é€😀', 'w'.repeat(70_000), Uint8Array.of(), Uint8Array.of(1, 2, 3), new Uint8Array(300).fill(7),
    [], [1, [2, [3, 'four']]], Array.from({ length: 20 }, (_, i) => i),
    { a: 1, b: { c: { d: [true, null, { e: 'f' }] } }, 'ü': -5 }, Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i * 1000])),
  ];
  const big = [2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n, 2n ** 53n + 1n];
  const encoded = [...values.map((v) => packr.pack(v)), ...big.map((v) => packr.pack(v))];
  const source = '({ init: () => [], step: (acc, key, value) => { acc.push(hpckv.decodeMsgpack(value)); return acc; }, combine: (a, b) => a.concat(b) })';
  const job = await pool.startJob(await pool.register({ kind: 'reduce', source }), null, BUDGET);
  await job.step({ keys: encoded.map(() => bytes('k')), values: encoded });
  const decoded = await job.result() as unknown[];
  const norm = (v: unknown): unknown => (v instanceof Uint8Array ? Array.from(v) : v);
  t.deepEqual(decoded.slice(0, values.length).map(norm), values.map(norm));
  t.deepEqual(decoded.slice(values.length), big); // beyond 2^53: BigInt
  t.is(decoded[values.indexOf(2 ** 53 - 1)], 2 ** 53 - 1); // safe 64-bit: Number
});

test('hpckv.decodeMsgpack reads each fixed-width encoding at its edges, and map keys through its key cache', async (t) => {
  const pool = await newPool();
  t.teardown(() => pool.close());
  const raw = (...b: number[]): Uint8Array => Uint8Array.from(b);
  const i64 = (tag: number, v: bigint): Uint8Array => {
    const out = new Uint8Array(9);
    out[0] = tag;
    new DataView(out.buffer).setBigUint64(1, BigInt.asUintN(64, v));
    return out;
  };
  const f32 = new Uint8Array(5);
  f32[0] = 0xca;
  new DataView(f32.buffer).setFloat32(1, -1.5);
  const cases: Array<[Uint8Array, unknown]> = [
    [raw(0xd0, 0x80), -128], [raw(0xd0, 0x7f), 127], [raw(0xd1, 0x80, 0x00), -32768], [raw(0xd2, 0x80, 0, 0, 0), -(2 ** 31)],
    [raw(0xd2, 0xff, 0xff, 0xff, 0xff), -1], [raw(0xce, 0xff, 0xff, 0xff, 0xff), 2 ** 32 - 1], [raw(0xcd, 0xff, 0xff), 65535],
    [i64(0xd3, -(2n ** 53n) + 1n), -(2 ** 53) + 1], [i64(0xd3, -(2n ** 53n)), -(2n ** 53n)], [i64(0xd3, 2n ** 53n), 2n ** 53n],
    [i64(0xd3, -(2n ** 32n)), -(2 ** 32)], [i64(0xd3, -1n), -1], [i64(0xcf, 2n ** 53n - 1n), 2 ** 53 - 1], [i64(0xcf, 2n ** 53n), 2n ** 53n],
    [f32, -1.5],
  ];
  // 3000 distinct keys of 1-30 bytes (more than the cache has slots, so slots collide), each
  // decoded twice, some not ASCII, beside the same keys in str8 form.
  const keyed: Array<Record<string, number>> = [];
  for (let i = 0; i < 3000; i++) {
    const name = `${i % 3 === 0 ? 'ü' : 'k'}${i}`.padEnd(1 + (i % 30), '_');
    keyed.push({ [name]: i, same: i, [`${name}#`]: -i - 1 });
  }
  const encoded = [...cases.map(([b]) => b), ...keyed.map((v) => packr.pack(v)), ...keyed.map((v) => packr.pack(v))];
  const source = '({ init: () => [], step: (acc, key, value) => { acc.push(hpckv.decodeMsgpack(value)); return acc; }, combine: (a, b) => a.concat(b) })';
  const job = await pool.startJob(await pool.register({ kind: 'reduce', source }), null, BUDGET);
  for (let at = 0; at < encoded.length; at += 1000) {
    const values = encoded.slice(at, at + 1000);
    await job.step({ keys: values.map(() => bytes('k')), values });
  }
  const decoded = await job.result() as unknown[];
  t.deepEqual(decoded.slice(0, cases.length), cases.map(([, v]) => v));
  t.deepEqual(decoded.slice(cases.length), [...keyed, ...keyed]);
});

test('hpckv.msgpackGet picks the value at a path past fields of every type, as a walk of the decoded value does', async (t) => {
  const pool = await newPool();
  t.teardown(() => pool.close());
  const fields: unknown[] = [null, true, -1, 200, 70_000, 2 ** 40, -(2 ** 40), 0.25, 'short', 'x'.repeat(40), 'y'.repeat(300), 'z'.repeat(70_000),
    Uint8Array.of(1, 2), new Uint8Array(300), new Uint8Array(70_000), new Date(1_700_000_000_123), [1, [2, { deep: 'no' }]],
    Array.from({ length: 20 }, (_, i) => i), Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`m${i}`, [i]])), 2n ** 63n];
  const record: Record<string, unknown> = {};
  fields.forEach((value, i) => { record[`f${i}`] = value; });
  record['target'] = { list: ['a', { energy: -7.5, tags: ['hot', 'new'] }], n: 3 };
  const encoded = packr.pack(record);
  const paths: unknown[] = [
    'target', ['target', 'n'], ['target', 'list', 1, 'energy'], ['target', 'list', 1, 'tags', 1], ['target', 'list', 0],
    ...fields.map((_, i) => `f${i}`), ['f16', 1, 1, 'deep'], ['f17', 19], ['f18', 'm19', 0],
    'absent', ['target', 'list', 2], ['target', 'n', 'x'], ['f9', 0], ['target', 'list', -1],
  ];
  const walk = (value: unknown, path: unknown): unknown => {
    let at = value;
    for (const step of Array.isArray(path) ? path : [path]) {
      if (Array.isArray(at)) at = typeof step === 'number' ? at[step] : undefined;
      else if (at !== null && typeof at === 'object' && !(at instanceof Uint8Array) && !(at instanceof Date)) {
        at = Object.hasOwn(at, step as string) ? (at as Record<string, unknown>)[step as string] : undefined;
      } else at = undefined;
    }
    return at;
  };
  const source = '({ init: () => [], step: (acc, key, value, args) => { for (const p of args) acc.push(hpckv.msgpackGet(value, p)); return acc; }, combine: (a, b) => a.concat(b) })';
  const job = await pool.startJob(await pool.register({ kind: 'reduce', source }), paths, BUDGET);
  await job.step({ keys: [bytes('k')], values: [encoded] });
  const got = await job.result() as unknown[];
  const norm = (v: unknown): unknown => (v instanceof Uint8Array ? Array.from(v) : v);
  const host = packr.unpack(encoded) as unknown;
  const want = paths.map((p) => norm(walk(host, p)));
  const wrong = paths.filter((_, i) => !isDeepStrictEqual(norm(got[i]), want[i]));
  t.deepEqual(wrong, []);
  t.is(got.length, paths.length);
  t.is(got[2], -7.5);
  t.is(got[paths.length - 5], undefined); // 'absent'
  t.is(paths[paths.length - 5], 'absent');
  await t.throwsAsync(runOne(pool, 'hpckv.msgpackGet(value, [{}])', encoded), { code: 'HPCKV_ERR_PROCEDURE_FAILED', message: /path step is a string key or an integer/ });
});

/** Runs `expression` as a filter over one entry whose value is `value`. */
async function runOne(pool: Awaited<ReturnType<typeof newPool>>, expression: string, value: Uint8Array): Promise<number[]> {
  const job = await pool.startJob(await pool.register({ kind: 'filter', source: `(key, value) => ${expression} === 1` }), null, BUDGET);
  try {
    return await job.filter({ keys: [bytes('k')], values: [value] });
  } finally {
    job.dispose();
  }
}

test('hpckv.decodeKey round-trips keyCodec.encode for scalar and tuple key types; hpckv.utf8 decodes', async (t) => {
  const cases: Array<[string, KeyValue[]]> = [
    ['bytes', [Uint8Array.of(0, 1, 255), Uint8Array.of(9)]],
    ['string', ['a', 'héllo 😀', '\u0000x']],
    ['int32', [0, -1, 2 ** 31 - 1, -(2 ** 31), 42]],
    ['uint32', [0, 1, 2 ** 32 - 1]],
    ['int64', [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n)]],
    ['uint64', [0n, 2n ** 64n - 1n, 12345678901234567n]],
    ['float64', [0, -0, 1.5, -1e300, Infinity, -Infinity, Number.MIN_VALUE]],
    ['float32', [0, 1.5, -2.25, Infinity]],
    ['tuple(string,int32)', [['a', -5], ['', 7], ['x\u0000y', 2 ** 31 - 1]]],
    ['tuple(int64,tuple(string,bytes),float64)', [[-3n, ['s', Uint8Array.of(0, 0, 1)], -0.5]]],
  ];
  const source = '({ init: () => [], step: (acc, key, value) => { acc.push([hpckv.decodeKey(key), hpckv.utf8(value)]); return acc; }, combine: (a, b) => a.concat(b) })';
  for (const [type, keys] of cases) {
    const pool = await newPool(type);
    try {
      const codec = keyCodec(parseKeyType(type));
      const job = await pool.startJob(await pool.register({ kind: 'reduce', source }), null, BUDGET);
      await job.step({ keys: keys.map((k) => codec.encode(k)), values: keys.map(() => bytes('v😀é')) });
      const got = await job.result() as Array<[KeyValue, string]>;
      t.deepEqual(got.map(([k]) => k), keys.map((k) => codec.decode(codec.encode(k))), type);
      t.deepEqual(got.map(([, v]) => v), keys.map(() => 'v😀é'));
    } finally {
      await pool.close();
    }
  }
});

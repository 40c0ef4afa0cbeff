import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type IterateOptions } from '../../client/client.js';
import type { KeyValue } from '../../core/keys/key-type.js';
import { launchLocalGroup, type LocalGroup } from '../../server/launcher.js';

/** Cursors and scans over a hash group of 4 real server processes (keys are raw bytes here). */
let dir: string;
let group: LocalGroup;
let client: Client;

/** 8-byte big-endian keys: byte order is numeric order. */
function k(n: number): Buffer {
  const key = Buffer.alloc(8);
  key.writeBigUInt64BE(BigInt(n));
  return key;
}
/** The number a key of this bytes store stands for (cursors and scans return its bytes as a Buffer). */
const n = (key: KeyValue | undefined): number | undefined => (key === undefined ? undefined : Number((key as Buffer).readBigUInt64BE()));

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hpckv-ordered-'));
  group = await launchLocalGroup({ servers: 4, dir, databases: ['walk', 'scan', 'empty', 'ranges'] });
  client = await Client.open(group.groupFile);
  // 400 keys, the even numbers 0..798, spread over all 4 servers by the ring.
  await client.putMany(Array.from({ length: 400 }, (_, i) => [k(2 * i), `v${2 * i}`] as const), { db: 'walk' });
});

test.after.always(async () => {
  await client?.close();
  await group?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('FIRST then NEXT walks all 400 keys in order across servers, then end of data', async (t) => {
  const db = { db: 'walk' };
  const seen: number[] = [];
  let entry = await client.first(db);
  while (entry !== undefined) {
    seen.push(n(entry[0])!);
    t.is(entry[1].toString(), `v${n(entry[0])}`);
    entry = await client.next(entry[0], db);
  }
  t.deepEqual(seen, Array.from({ length: 400 }, (_, i) => 2 * i));
});

test('LAST then PREV walks backwards; FIRST and LAST are the global min and max', async (t) => {
  const db = { db: 'walk' };
  const seen: number[] = [];
  let entry = await client.last(db);
  t.is(n(entry?.[0]), 798);
  t.is(n((await client.first(db))?.[0]), 0);
  while (entry !== undefined) {
    seen.push(n(entry[0])!);
    entry = await client.prev(entry[0], db);
  }
  t.deepEqual(seen, Array.from({ length: 400 }, (_, i) => 798 - 2 * i));
});

test('NEXT and PREV of a key that is not stored give its true neighbours', async (t) => {
  const db = { db: 'walk' };
  t.is(n((await client.next(k(101), db))?.[0]), 102);
  t.is(n((await client.prev(k(101), db))?.[0]), 100);
  t.is(await client.next(k(798), db), undefined);
  t.is(await client.prev(k(0), db), undefined);
  t.is(await client.first({ db: 'empty' }), undefined);
  t.is(await client.last({ db: 'empty' }), undefined);
});

test('scans with every bound combination, reverse and limit match a sorted model on random data', async (t) => {
  let seed = 12345;
  const random = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 2 ** 32; };
  const model = new Set<number>();
  while (model.size < 1500) model.add(Math.floor(random() * 100_000));
  const sorted = [...model].sort((a, b) => a - b);
  for (let i = 0; i < sorted.length; i += 1000) {
    await client.putMany(sorted.slice(i, i + 1000).map((v) => [k(v), String(v)] as const), { db: 'scan' });
  }
  for (let round = 0; round < 40; round++) {
    const a = Math.floor(random() * 100_000);
    const b = Math.floor(random() * 100_000);
    const [lo, hi] = a < b ? [a, b] : [b, a];
    const options: IterateOptions = { db: 'scan' };
    const lower = Math.floor(random() * 3); // 0 none, 1 gt, 2 gte
    const upper = Math.floor(random() * 3); // 0 none, 1 lt, 2 lte
    if (lower === 1) options.gt = k(lo);
    if (lower === 2) options.gte = k(lo);
    if (upper === 1) options.lt = k(hi);
    if (upper === 2) options.lte = k(hi);
    options.reverse = random() < 0.5;
    if (random() < 0.5) options.limit = Math.floor(random() * 50);
    options.firstPageEntries = 1 + Math.floor(random() * 20);
    let expected = sorted.filter((v) => (lower === 0 || (lower === 1 ? v > lo : v >= lo)) && (upper === 0 || (upper === 1 ? v < hi : v <= hi)));
    if (options.reverse) expected = expected.reverse();
    if (options.limit !== undefined) expected = expected.slice(0, options.limit);
    const got = await client.iterate(options).all();
    t.deepEqual(got.map(([key]) => n(key)), expected, JSON.stringify({ lower, upper, lo, hi, reverse: options.reverse, limit: options.limit }));
    t.true(got.every(([key, value]) => value?.toString() === String(n(key))));
  }
});

test('iterate is an async iterator: for await, early break, nextv and keys-only scans', async (t) => {
  const firstTen: number[] = [];
  for await (const [key] of client.iterate({ db: 'walk' })) {
    firstTen.push(n(key)!);
    if (firstTen.length === 10) break;
  }
  t.deepEqual(firstTen, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  const scan = client.iterate({ db: 'walk', gte: k(700), values: false });
  t.deepEqual((await scan.nextv(3)).map(([key, value]) => [n(key), value]), [[700, undefined], [702, undefined], [704, undefined]]);
  t.is((await scan.all()).length, 47);
  t.deepEqual(await scan.nextv(5), []);
});

test('count and deleteRange over ranges keep stats exact', async (t) => {
  const db = { db: 'ranges' };
  await client.putMany(Array.from({ length: 300 }, (_, i) => [k(i), 'x'.repeat(i % 7)] as const), db);
  t.is(await client.count({}, db), 300);
  t.is(await client.count({ gte: k(100), lt: k(200) }, db), 100);
  t.is(await client.count({ gt: k(100), lte: k(200) }, db), 100);
  t.is(await client.count({ gt: k(299) }, db), 0);
  t.is(await client.deleteRange({ gte: k(50), lt: k(250) }, db), 200);
  t.is(await client.count({}, db), 100);
  t.deepEqual((await client.iterate({ ...db, values: false }).all()).map(([key]) => n(key)),
    [...Array.from({ length: 50 }, (_, i) => i), ...Array.from({ length: 50 }, (_, i) => 250 + i)]);
  const stats = await client.stat(db);
  const total = (field: 'records' | 'keyBytes' | 'valueBytes'): number => stats.reduce((sum, s) => sum + s.databases['ranges']![field], 0);
  t.is(total('records'), 100);
  t.is(total('keyBytes'), 800);
  const expectedValueBytes = [...Array.from({ length: 50 }, (_, i) => i), ...Array.from({ length: 50 }, (_, i) => 250 + i)]
    .reduce((sum, i) => sum + (i % 7), 0);
  t.is(total('valueBytes'), expectedValueBytes);
  t.is(await client.deleteRange({}, db), 100);
  t.is(await client.first(db), undefined);
});

test('malformed range requests are typed errors', async (t) => {
  const { RpcClient } = await import('../../core/rpc/rpc-client.js');
  const { ErrorCodes, HpckvError } = await import('../../core/errors.js');
  const raw = await RpcClient.connect(group.group.servers[0]!.address, client.limits);
  for (const body of [{ db: 'walk', gt: k(1), gte: k(2) }, { db: 'walk', lt: k(1), lte: k(2) }, { db: 'walk', gt: 'x' },
    { db: 'walk', limit: 0 }, { db: 'walk', limit: 1.5 }, { db: 'walk', reverse: 'yes' }, { db: 'walk', gt: Buffer.alloc(0) }]) {
    const error = await t.throwsAsync(raw.call('scan', body), { instanceOf: HpckvError });
    t.is(error?.code, ErrorCodes.BAD_REQUEST, JSON.stringify(body));
  }
  t.is((await t.throwsAsync(raw.call('next', { db: 'walk' }), { instanceOf: HpckvError }))?.code, ErrorCodes.BAD_REQUEST);
  t.is((await t.throwsAsync(raw.call('first', { db: 'nope' }), { instanceOf: HpckvError }))?.code, ErrorCodes.UNKNOWN_DATABASE);
  t.throws(() => client.iterate({ gt: k(1), gte: k(1) }), { instanceOf: TypeError });
  raw.close();
});

test('a range-partitioned group serves the same ordered reads, and a bad partition spec fails cleanly', async (t) => {
  const rangeDir = await mkdtemp(join(tmpdir(), 'hpckv-range-'));
  const boundaries = [k(100), k(200), k(300)].map((b) => b.toString('base64'));
  const rangeGroup = await launchLocalGroup({ servers: 4, dir: rangeDir, partition: { scheme: 'range', boundaries, epoch: 0 } });
  const rangeClient = await Client.open(rangeGroup.groupFile);
  await rangeClient.putMany(Array.from({ length: 400 }, (_, i) => [k(i), String(i)] as const));
  const stats = await rangeClient.stat();
  t.deepEqual(stats.map((s) => s.databases['default']!.records), [100, 100, 100, 100], 'each server holds exactly its range');
  t.deepEqual((await rangeClient.iterate({ gte: k(95), lt: k(305), values: false }).all()).map(([key]) => n(key)),
    Array.from({ length: 210 }, (_, i) => 95 + i));
  let entry = await rangeClient.first();
  let walked = 0;
  while (entry !== undefined) { walked++; entry = await rangeClient.next(entry[0]); }
  t.is(walked, 400);
  await rangeClient.close();
  await rangeGroup.stop();
  // Restarting the same data with other boundaries is refused (data would be unreachable).
  const moved = [k(50), k(200), k(300)].map((b) => b.toString('base64'));
  const error = await t.throwsAsync(launchLocalGroup({ servers: 4, dir: rangeDir, partition: { scheme: 'range', boundaries: moved, epoch: 0 } }));
  t.regex(error?.message ?? '', /HPCKV_ERR_GROUP_FILE|created with partition/);
  const bad = await t.throwsAsync(launchLocalGroup({ servers: 2, dir: join(rangeDir, 'bad'), partition: { scheme: 'range', boundaries: [], epoch: 0 } }));
  t.regex(bad?.message ?? '', /boundaries/);
  await rm(rangeDir, { recursive: true, force: true });
});

test('typed keys: floats keep their sign order and tuples walk in order across servers', async (t) => {
  const { ErrorCodes, HpckvError } = await import('../../core/errors.js');
  const floatDir = await mkdtemp(join(tmpdir(), 'hpckv-float-'));
  const floats = await launchLocalGroup({ servers: 3, dir: floatDir, keyType: 'float64' });
  const fc = await Client.open(floats.groupFile);
  t.is(fc.group.keyType, 'float64');
  const values = [-1e300, -1000.5, -1, -0.001, -0, 0, 1e-300, 0.5, 3, 1e10, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  await fc.putMany(values.map((v) => [v, String(v)] as const));
  const walked: number[] = [];
  for await (const [key] of fc.iterate()) walked.push(key as number);
  const expected = [...values].sort((a, b) => (a === b ? (Object.is(a, -0) ? -1 : Object.is(b, -0) ? 1 : 0) : a - b));
  t.deepEqual(walked.map(String), expected.map(String));
  t.true(Object.is(walked[5], -0) && Object.is(walked[6], 0), '-0 is a key of its own, just before +0');
  t.is((await fc.next(-0.5))![0], -0.001);
  t.is((await fc.prev(0.5))![0], 1e-300);
  t.is((await t.throwsAsync(fc.put(Number.NaN, 'x'), { instanceOf: HpckvError }))?.code, ErrorCodes.BAD_KEY);
  t.is((await t.throwsAsync(fc.put('not a number', 'x'), { instanceOf: HpckvError }))?.code, ErrorCodes.BAD_KEY);
  await fc.close();
  await floats.stop();

  const tupleDir = await mkdtemp(join(tmpdir(), 'hpckv-tuple-'));
  const tuples = await launchLocalGroup({ servers: 3, dir: tupleDir, keyType: 'tuple(string,int32)' });
  const tc = await Client.open(tuples.groupFile);
  const keys: Array<[string, number]> = [];
  for (const s of ['a', 'a\u0000', 'ab', 'b', '', 'é']) for (const n of [-5, 0, 7]) keys.push([s, n]);
  await tc.putMany(keys.map((key) => [key, JSON.stringify(key)] as const));
  const all = (await tc.iterate().all()).map(([key]) => key);
  const sorted = [...keys].sort((x, y) => (x[0] === y[0] ? x[1] - y[1] : Buffer.compare(Buffer.from(x[0]), Buffer.from(y[0]))));
  t.deepEqual(all, sorted);
  t.is((await t.throwsAsync(tc.put(['a'], 'short'), { instanceOf: HpckvError }))?.code, ErrorCodes.BAD_KEY);
  await tc.close();
  await tuples.stop();
  await rm(floatDir, { recursive: true, force: true });
  await rm(tupleDir, { recursive: true, force: true });
});

test('MDHIM slices: 400 int64 keys over 4 servers with slice size 50, walked by FIRST/NEXT and LAST/PREV', async (t) => {
  const sliceDir = await mkdtemp(join(tmpdir(), 'hpckv-slices-'));
  const sliced = await launchLocalGroup({ servers: 4, dir: sliceDir, keyType: 'int64',
    partition: { scheme: 'slices', sliceSize: 50, keyType: 'int64' } });
  const sc = await Client.open(sliced.groupFile);
  await sc.putMany(Array.from({ length: 400 }, (_, i) => [BigInt(i - 200), String(i - 200)] as const));
  // slice = floor(key / 50), owner = slice mod 4: each server holds exactly 100 keys.
  t.deepEqual((await sc.stat()).map((s) => s.databases['default']!.records), [100, 100, 100, 100]);
  const forward: bigint[] = [];
  let entry = await sc.first();
  while (entry !== undefined) { forward.push(entry[0] as bigint); entry = await sc.next(entry[0]); }
  t.deepEqual(forward, Array.from({ length: 400 }, (_, i) => BigInt(i - 200)));
  const backward: bigint[] = [];
  entry = await sc.last();
  while (entry !== undefined) { backward.push(entry[0] as bigint); entry = await sc.prev(entry[0]); }
  t.deepEqual(backward, [...forward].reverse());
  t.is(await sc.next(199n), undefined, 'end of data after the largest key');
  t.is((await sc.next(-1000n))![0], -200n, 'NEXT of an absent key below every key is the smallest key');
  await sc.close();
  await sliced.stop();
  await rm(sliceDir, { recursive: true, force: true });
});

test('seek moves a scan within its range, forward and reverse; close ends it', async (t) => {
  const scan = client.iterate({ db: 'walk', gte: k(100), lt: k(300), values: false });
  t.deepEqual((await scan.nextv(2)).map(([key]) => n(key)), [100, 102]);
  scan.seek(k(251));
  t.deepEqual((await scan.nextv(3)).map(([key]) => n(key)), [252, 254, 256]);
  scan.seek(k(0)); // before the range: back to its start
  t.deepEqual((await scan.nextv(1)).map(([key]) => n(key)), [100]);
  await scan.close();
  t.deepEqual(await scan.nextv(1), []);
  const reverse = client.iterate({ db: 'walk', reverse: true, values: false });
  reverse.seek(k(51));
  t.deepEqual((await reverse.nextv(3)).map(([key]) => n(key)), [50, 48, 46]);
  await reverse.close();
});

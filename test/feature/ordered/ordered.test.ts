import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../../client/client.js';
import type { KeyValue } from '../../../core/keys/key-type.js';
import { launchLocalGroup, type LocalGroup } from '../../../server/launcher.js';

/**
 * Cursors and scans over a hash group of 4 real server processes (keys are raw bytes here): what
 * the topology suite (topology.test.ts) does not cover on every topology.
 */
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
  group = await launchLocalGroup({ servers: 4, dir, databases: ['walk'] });
  client = await Client.open(group.groupFile);
  // 400 keys, the even numbers 0..798, spread over all 4 servers by the ring.
  await client.putMany(Array.from({ length: 400 }, (_, i) => [k(2 * i), `v${2 * i}`] as const), { db: 'walk' });
});

test.after.always(async () => {
  await client?.close();
  await group?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('iterate is an async iterator: for await, early break, nextv and keys-only scans (keys alone, not pairs)', async (t) => {
  const firstTen: number[] = [];
  for await (const [key] of client.iterate({ db: 'walk' })) {
    firstTen.push(n(key)!);
    if (firstTen.length === 10) break;
  }
  t.deepEqual(firstTen, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  const scan = client.iterate({ db: 'walk', gte: k(700), values: false });
  const keysOnly = await scan.nextv(3);
  t.true(keysOnly.every((key) => Buffer.isBuffer(key)), 'each entry is the key itself');
  t.deepEqual(keysOnly.map((key) => n(key)), [700, 702, 704]);
  t.is((await scan.all()).length, 47);
  t.deepEqual(await scan.nextv(5), []);
});

test('malformed range requests are typed errors', async (t) => {
  const { RpcClient } = await import('../../../core/rpc/rpc-client.js');
  const { ErrorCodes, HpckvError } = await import('../../../core/errors.js');
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
  t.deepEqual((await rangeClient.iterate({ gte: k(95), lt: k(305), values: false }).all()).map((key) => n(key)),
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
  const { ErrorCodes, HpckvError } = await import('../../../core/errors.js');
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

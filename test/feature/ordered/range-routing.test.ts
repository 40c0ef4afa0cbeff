import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../../client/client.js';
import { launchLocalGroup, type LocalGroup } from '../../../server/launcher.js';
import { requestsDuring } from '../../support/requests-during.js';
import { u64Key as k, u64Of as n } from '../../support/u64-keys.js';

/**
 * getRange, and how ordered reads are routed: a range group reads its servers one after another
 * (a read that stops early never reaches the servers after it), a hash group merges them all.
 * Which servers were asked is read off each server's own request counter (stat).
 */
let dir: string;
let rangeGroup: LocalGroup;
let hashGroup: LocalGroup;
let range: Client;
let hash: Client;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hpckv-routing-'));
  const boundaries = [k(100), k(200), k(300)].map((b) => b.toString('base64'));
  [rangeGroup, hashGroup] = await Promise.all([
    launchLocalGroup({ servers: 4, dir: join(dir, 'range'), partition: { scheme: 'range', boundaries, epoch: 0 } }),
    launchLocalGroup({ servers: 3, dir: join(dir, 'hash') }),
  ]);
  range = await Client.open(rangeGroup.groupFile);
  hash = await Client.open(hashGroup.groupFile);
  // Keys 0..399: 100 on each range server.
  const entries = Array.from({ length: 400 }, (_, i) => [k(i), `v${i}`] as const);
  await Promise.all([range.putMany(entries), hash.putMany(entries)]);
});

test.after.always(async () => {
  await range?.close();
  await hash?.close();
  await rangeGroup?.stop();
  await hashGroup?.stop();
  await rm(dir, { recursive: true, force: true });
});

for (const [name, client] of [['range', () => range], ['hash', () => hash]] as const) {
  test.serial(`getRange NEXT and PREV continue across servers (${name} group)`, async (t) => {
    const c = client();
    t.deepEqual((await c.getRange(k(95), 10, 'next')).map(([key]) => n(key)), [96, 97, 98, 99, 100, 101, 102, 103, 104, 105]);
    t.deepEqual((await c.getRange(k(203), 6, 'prev')).map(([key]) => n(key)), [202, 201, 200, 199, 198, 197]);
    t.deepEqual((await c.getRange(k(396), 10, 'next')).map(([key]) => n(key)), [397, 398, 399], 'fewer only at the end of the data');
    t.deepEqual((await c.getRange(undefined, 3, 'next')).map(([key]) => n(key)), [0, 1, 2], 'from the first key');
    t.deepEqual((await c.getRange(undefined, 3, 'prev')).map(([key]) => n(key)), [399, 398, 397], 'from the last key');
    t.deepEqual((await c.getRange(k(150), 2, 'next')).map(([key, value]) => [n(key), value.toString()]), [[151, 'v151'], [152, 'v152']]);
    t.deepEqual(await c.getRange(k(399), 5, 'next'), []);
    t.deepEqual(await c.getRange(k(0), 5, 'prev'), []);
    t.deepEqual(await c.getRange(k(10), 0, 'next'), []);
    await t.throwsAsync(c.getRange(k(10), -1, 'next'), { instanceOf: RangeError });
    await t.throwsAsync(c.getRange(k(10), 1, 'sideways' as 'next'), { instanceOf: TypeError });
  });
}

test.serial('a range group scans its servers one after another: an early stop never reaches the later servers', async (t) => {
  t.deepEqual(await requestsDuring(range, async () => {
    t.deepEqual((await range.iterate({ gte: k(10), limit: 5, values: false }).all()).map((key) => n(key)), [10, 11, 12, 13, 14]);
  }), [1, 0, 0, 0]);
  // A scan within servers 1 and 2 asks only those.
  const asked = await requestsDuring(range, async () => {
    t.is((await range.iterate({ gte: k(150), lt: k(250), values: false }).all()).length, 100);
  });
  t.is(asked[0], 0);
  t.is(asked[3], 0);
  t.true(asked[1]! >= 1 && asked[2]! >= 1);
  // Reverse: from the top server down.
  t.deepEqual(await requestsDuring(range, async () => {
    t.deepEqual((await range.iterate({ reverse: true, limit: 3, values: false }).all()).map((key) => n(key)), [399, 398, 397]);
  }), [0, 0, 0, 1]);
  // A full scan still returns everything in order.
  t.deepEqual((await range.iterate({ values: false }).all()).map((key) => n(key)), Array.from({ length: 400 }, (_, i) => i));
  t.deepEqual((await range.iterate({ values: false, reverse: true, firstPageEntries: 7 }).all()).map((key) => n(key)),
    Array.from({ length: 400 }, (_, i) => 399 - i));
});

test.serial('a range group answers NEXT/PREV from the owning server, and count/deleteRange ask only the servers of the range', async (t) => {
  t.deepEqual(await requestsDuring(range, async () => { t.is(n((await range.next(k(150)))![0]), 151); }), [0, 1, 0, 0]);
  t.deepEqual(await requestsDuring(range, async () => { t.is(n((await range.prev(k(100)))![0]), 99); }), [1, 0, 0, 0]);
  // The successor of the last key of a server lives on the next one.
  t.deepEqual(await requestsDuring(range, async () => { t.is(n((await range.next(k(199)))![0]), 200); }), [0, 1, 1, 0]);
  t.deepEqual(await requestsDuring(range, async () => { t.is(n((await range.first())![0]), 0); }), [1, 0, 0, 0]);
  t.deepEqual(await requestsDuring(range, async () => { t.is(n((await range.last())![0]), 399); }), [0, 0, 0, 1]);
  t.deepEqual(await requestsDuring(range, async () => { t.is(await range.count({ gte: k(120), lt: k(180) }), 60); }), [0, 1, 0, 0]);
  // A hash group has no order among servers: every server is asked.
  t.deepEqual(await requestsDuring(hash, async () => { t.is(n((await hash.next(k(150)))![0]), 151); }), [1, 1, 1]);
});

test.serial('seek inside a range-group scan re-plans which servers it reads', async (t) => {
  const scan = range.iterate({ gte: k(50), values: false });
  t.deepEqual((await scan.nextv(2)).map((key) => n(key)), [50, 51]);
  scan.seek(k(305));
  t.deepEqual((await scan.nextv(3)).map((key) => n(key)), [305, 306, 307]);
  scan.seek(k(0));
  t.deepEqual((await scan.nextv(1)).map((key) => n(key)), [50]);
  await scan.close();
});

test.serial('a prefix range of a bytes store holds exactly the keys starting with those bytes; a range group asks only their servers', async (t) => {
  // k(256)..k(511) share their first 7 bytes: of the stored 0..399, the keys 256..399.
  const prefix = k(256).subarray(0, 7);
  const expected = Array.from({ length: 144 }, (_, i) => 256 + i);
  for (const c of [range, hash]) {
    t.deepEqual((await c.iterate({ prefix, values: false }).all()).map((key) => n(key)), expected);
    t.deepEqual((await c.iterate({ prefix, reverse: true, limit: 2 }).all()).map(([key, value]) => [n(key), value.toString()]), [[399, 'v399'], [398, 'v398']]);
    t.is(await c.count({ prefix }), 144);
    t.is(await c.count({ prefix: k(7) }), 1, 'a whole key is a prefix of itself only here');
  }
  t.deepEqual(await requestsDuring(range, async () => { t.is(await range.count({ prefix }), 144); }), [0, 0, 1, 1]);
  t.throws(() => range.iterate({ prefix, gte: k(300) }), { instanceOf: TypeError, message: 'a range takes a prefix or gt/gte/lt/lte bounds, not both' });
});

test('sliceStats is for MDHIM slices groups only', async (t) => {
  const { ErrorCodes, HpckvError } = await import('../../../core/errors.js');
  const error = await t.throwsAsync(range.sliceStats(), { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.BAD_CONFIG);
});

test('a slices spec for another key type than the store has is refused at launch', async (t) => {
  const { ErrorCodes, HpckvError } = await import('../../../core/errors.js');
  const error = await t.throwsAsync(launchLocalGroup({ servers: 2, dir: join(dir, 'mismatch'), keyType: 'int32',
    partition: { scheme: 'slices', sliceSize: 10, keyType: 'int64' } }), { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.BAD_CONFIG);
  t.is(error?.message, "bad partition spec: partition.keyType int64 does not match the store's key type int32");
});

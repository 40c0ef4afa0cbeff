import test, { type ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Client } from '../../../client/client.js';
import type { RegionHandle } from '../../../client/region-handle.js';
import type { RegionRegistry } from '../../../client/region-registry.js';
import { ErrorCodes, HpckvError, type ErrorCode } from '../../../core/errors.js';
import { resolveLimits } from '../../../core/limits.js';
import { localOwner } from '../../../core/regions/local-owners.js';
import {
  PACKED_ABSENT, packPairs, packedPairsBytes, slotsLayoutBytes, unpackPairs, unpackSlots,
} from '../../../core/regions/packed-pairs.js';
import type { RegionDescriptor } from '../../../core/regions/region-descriptor.js';
import { RpcClient } from '../../../core/rpc/rpc-client.js';
import { launchLocalGroup, type LocalGroup } from '../../../server/launcher.js';
import { u64Key } from '../../support/u64-keys.js';
import { regionKey, regionPairs } from '../../support/region-pairs.js';
import { startInprocServers } from '../../support/inproc-servers.js';

// Servers (child processes and the in-process ones below) accept regionTestHold only with this set.
process.env['HPCKV_TEST_HOOKS'] = '1';

/**
 * Client-memory operations (RDMA style) against real server processes: the put and get flows
 * (a handle before any byte moved, results after), the packed and slots layouts, bulk transfers,
 * scans into a region with resume keys, every typed error, concurrency, a third-process owner,
 * an owner killed mid-pull, and the co-located path of an in-process group. Nothing sleeps:
 * orderings come from the servers' hold hook and from awaiting handles.
 */

const OWNER_FIXTURE = fileURLToPath(new URL('../../support/fixtures/region-owner.js', import.meta.url));
const DATABASES = ['flow', 'bulk', 'scan', 'errors', 'many', 'proxy', 'cut'];

interface Running {
  readonly name: string;
  readonly group: LocalGroup;
  readonly client: Client;
  /** A plain connection to every server, for the hold hook. */
  readonly raw: RpcClient[];
}

let dir: string;
let hash: Running;
let range: Running;
/** Small chunks: a region's pull takes many back-channel messages. */
let small: Running;

async function start(name: string, servers: number, options: Partial<Parameters<typeof launchLocalGroup>[0]>): Promise<Running> {
  const group = await launchLocalGroup({ servers, dir: join(dir, name), databases: DATABASES, ...options });
  const client = await Client.open(group.groupFile);
  const raw = await Promise.all(group.group.servers.map((s) => RpcClient.connect(s.address, client.limits)));
  return { name, group, client, raw };
}

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hpckv-regions-'));
  const boundaries = [u64Key(3334), u64Key(6667)].map((b) => b.toString('base64'));
  [hash, range, small] = await Promise.all([
    start('hash', 3, {}),
    start('range', 3, { partition: { scheme: 'range', boundaries, epoch: 0 } }),
    start('small', 2, { limits: { regionChunkBytesMax: 4096 } }),
  ]);
});

test.after.always(async () => {
  for (const g of [hash, range, small]) {
    if (g === undefined) continue;
    for (const r of g.raw) r.close();
    await g.client.close();
    await g.group.stop();
  }
  await rm(dir, { recursive: true, force: true });
});

/** Every server of `g` holds (or releases) its transfers. */
async function hold(g: Running, body: { hold: boolean; afterChunks?: number }): Promise<void> {
  await Promise.all(g.raw.map((r) => r.call('regionTestHold', body)));
}

/** Runs `run` with every transfer of `g` held, releasing them whatever happens. */
async function held<T>(g: Running, run: () => Promise<T>, afterChunks = 0): Promise<T> {
  await hold(g, { hold: true, afterChunks });
  try {
    return await run();
  } finally {
    await hold(g, { hold: false });
  }
}

async function failsWith(t: ExecutionContext, promise: Promise<unknown>, code: ErrorCode, what: string): Promise<HpckvError | undefined> {
  const error = await t.throwsAsync(promise, { instanceOf: HpckvError }, what);
  t.is(error?.code, code, `${what}: ${error?.message ?? ''}`);
  return error;
}

async function records(client: Client, db: string): Promise<number[]> {
  return (await client.stat({ db })).map((s) => s.databases[db]!.records);
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
const text = (pairs: Array<[Buffer, Buffer | undefined]>): Array<[string, string | undefined]> =>
  pairs.map(([k, v]) => [k.toString('hex'), v?.toString('hex')]);

// ---- 1, 2: the put and get flows ------------------------------------------------------------

test.serial('put flow: a handle before any byte moved, the records once released', async (t) => {
  const { client } = hash;
  const pairs = regionPairs(100, 40, 1, 'put-flow-');
  const d = await client.registerRegion(packPairs(pairs), 'r');
  let handle: RegionHandle<number> | undefined;
  await held(hash, async () => {
    handle = await client.putFromRegion(d, { db: 'flow' });
    t.false(handle.test());
    t.deepEqual(client.poll([handle]), [false]);
    t.is(await client.get(pairs[0]![0], { db: 'flow' }), undefined);
    t.deepEqual(await client.getMany(pairs.map(([k]) => k), { db: 'flow' }), pairs.map(() => undefined), 'no key readable while held');
    t.false(handle.test());
  });
  t.is(await handle!.wait(), 40);
  t.true(handle!.test());
  t.deepEqual(client.poll([handle!]), [true]);
  t.is(handle!.result, 40);
  t.deepEqual((await client.getMany(pairs.map(([k]) => k), { db: 'flow' })).map((v) => v?.toString('hex')), pairs.map(([, v]) => v.toString('hex')));
  client.deregisterRegion(d);
});

test.serial('string pairs packed by packPairs are stored under their UTF-8 keys, with their UTF-8 values', async (t) => {
  const { client } = hash;
  const d = await client.registerRegion(packPairs([['r1', 'one'], ['r2', 'two'], ['r3', '']]), 'r');
  t.is(await (await client.putFromRegion(d, { db: 'flow' })).wait(), 3);
  t.deepEqual((await client.getMany(['r1', 'r2', 'r3'], { db: 'flow' })).map((v) => v?.toString()), ['one', 'two', '']);
  t.is(await client.get(Buffer.of(0, 1), { db: 'flow' }), undefined, 'no key of zeros stored instead');
  client.deregisterRegion(d);
});

test.serial('get flow: the region stays zero while held, then holds the packed layout (keys echoed, missing keys absent)', async (t) => {
  const { client } = hash;
  const stored = regionPairs(200, 12, 1, 'get-flow-');
  await client.putMany(stored, { db: 'flow' });
  const keys = [regionKey(205), regionKey(999_999), ...stored.map(([k]) => k), regionKey(999_998)];
  const expected: Array<[Buffer, Buffer | undefined]> = keys.map((k) => [k, stored.find(([s]) => s.equals(k))?.[1]]);
  const memory = Buffer.alloc(packedPairsBytes(expected));
  const d = await client.registerRegion(memory, 'w');
  let handle: RegionHandle<number> | undefined;
  await held(hash, async () => {
    handle = await client.getIntoRegion(keys, d, { db: 'flow' });
    t.false(handle.test());
    t.deepEqual(client.poll([handle]), [false]);
    t.true(memory.equals(Buffer.alloc(memory.length)), 'nothing pushed while held');
  });
  t.is(await handle!.wait(), keys.length - 2, 'the keys found: the two missing ones are in the layout, not counted');
  t.true(memory.equals(packPairs(expected)), 'exactly the packed layout');
  const back = unpackPairs(memory);
  t.deepEqual(text(back), text(expected));
  t.is(back[1]![1], undefined);
  t.is(memory.readUInt32LE(4 + 4 * keys.length + 4), PACKED_ABSENT);
  // Keys of one server: it lays the region out and pushes at once, and counts the same way.
  const oneServer = keys.filter((k) => client.serverFor(k) === client.serverFor(keys[1]!));
  const found = oneServer.filter((k) => stored.some(([s]) => s.equals(k))).length;
  t.true(oneServer.length > found && found > 0, `${found} of ${oneServer.length} keys on server ${client.serverFor(keys[1]!)} are stored`);
  t.is(await (await client.getIntoRegion(oneServer, d, { db: 'flow' })).wait(), found);
  client.deregisterRegion(d);
});

test.serial('get into slots: sizes first, a value longer than its slot cut (its size tells), a missing key', async (t) => {
  const { client } = hash;
  await client.putMany([['slot-a', 'short'], ['slot-b', 'a-much-longer-value'], ['slot-c', '']], { db: 'flow' });
  const slotBytes = 8;
  const keys = ['slot-a', 'slot-b', 'slot-missing', 'slot-c'];
  const memory = Buffer.alloc(slotsLayoutBytes(keys.length, slotBytes));
  const d = await client.registerRegion(memory);
  const handle = await held(hash, async () => {
    const h = await client.getIntoRegion(keys, d, { db: 'flow', layout: 'slots', slotBytes });
    t.true(memory.equals(Buffer.alloc(memory.length)));
    return h;
  });
  t.is(await handle.wait(), 3, 'three of the four keys found');
  t.deepEqual(unpackSlots(memory, keys.length, slotBytes).map((s) => [s.value?.toString(), s.size, s.truncated]),
    [['short', 5, false], ['a-much-l', 19, true], [undefined, undefined, false], ['', 0, false]]);
  const expected = Buffer.alloc(memory.length);
  [5, 19, PACKED_ABSENT, 0].forEach((size, i) => expected.writeUInt32LE(size, 4 * i));
  expected.write('short', 16);
  expected.write('a-much-l', 24);
  t.true(memory.equals(expected), 'slot bytes past a value and the missing key\'s slot stay untouched');
  // A slots layout that does not fit the region is refused at the call.
  const error = await failsWith(t, client.getIntoRegion(keys, client.sliceRegion(d, 0, memory.length - 1), { layout: 'slots', slotBytes }),
    ErrorCodes.REGION_TOO_SMALL, 'slots too small');
  t.is(error?.details['bytesNeeded'], memory.length);
  client.deregisterRegion(d);
});

// ---- 3: bulk ----------------------------------------------------------------------------------

for (const which of ['hash', 'range'] as const) {
  test.serial(`10k pairs put from one region and read back into another, byte for byte (${which} group)`, async (t) => {
    const g = which === 'hash' ? hash : range;
    const { client } = g;
    const pairs = regionPairs(0, 10_000);
    t.true(pairs.some(([, v]) => v.length === 0) && pairs.some(([k]) => k.length === 16));
    const source = packPairs(pairs);
    const d = await client.registerRegion(source, 'r');
    const put = await client.putFromRegion(d, { db: 'bulk' });
    t.is(await put.wait(), 10_000);
    const perServer = await records(client, 'bulk');
    t.is(sum(perServer), 10_000);
    t.true(perServer.every((n) => n > 0), `every server holds some: ${perServer.join(',')}`);
    if (which === 'range') t.deepEqual(perServer, [3334, 3333, 3333]);
    const out = Buffer.alloc(source.length);
    const outD = await client.registerRegion(out, 'w');
    const get = await client.getIntoRegion(pairs.map(([k]) => k), outD, { db: 'bulk' });
    t.is(await get.wait(), 10_000);
    t.true(out.equals(source), 'the get wrote exactly the layout the put read');
    t.deepEqual((await client.getMany([pairs[0]![0], pairs[9_999]![0]], { db: 'bulk' })).map((v) => v?.toString()),
      [pairs[0]![1].toString(), pairs[9_999]![1].toString()]);
    client.deregisterRegion(d);
    client.deregisterRegion(outD);
  });
}

// ---- 4: scans into a region ------------------------------------------------------------------

/** The scan db: keys 0, 40, ..., 9960 (all servers of both groups); entry 0's value is the largest. */
const SCAN = regionPairs(0, 250, 40, 'scan-').map(([k, v], i): [Buffer, Buffer] => [k, i === 0 ? Buffer.alloc(60, 0x7a) : v]);

/** Calls a scan of `pairs` into a region of `regionBytes` takes when each writes as many pairs as fit. */
function greedyCalls(pairs: ReadonlyArray<[Buffer, Buffer]>, regionBytes: number): number {
  let calls = 0;
  for (let at = 0; at < pairs.length; calls++) {
    let end = at + 1;
    while (end < pairs.length && packedPairsBytes(pairs.slice(at, end + 1)) <= regionBytes) end++;
    at = end;
  }
  return calls;
}

async function scanAll(t: ExecutionContext, g: Running, regionBytes: number, options: { reverse?: boolean; limit?: number },
  bounds: { gte?: Buffer; lt?: Buffer } = {}): Promise<{ pairs: Array<[Buffer, Buffer | undefined]>; calls: number }> {
  const { client } = g;
  const memory = Buffer.alloc(regionBytes);
  const d = await client.registerRegion(memory);
  const pairs: Array<[Buffer, Buffer | undefined]> = [];
  let cursor: { gt?: Buffer; gte?: Buffer; lt?: Buffer } = { ...bounds };
  let calls = 0;
  for (;;) {
    calls++;
    if (calls > 1000) { t.fail('the scan never ended'); break; }
    memory.fill(0xee);
    const handle = await client.scanIntoRegion(d, { ...cursor, ...options }, { db: 'scan' });
    const result = await handle.wait();
    const written = unpackPairs(memory.subarray(0, result.bytes));
    t.is(written.length, result.count);
    t.true(result.count >= 1 || result.resume === undefined, 'a call that writes nothing has nothing more');
    if (options.limit !== undefined) t.true(result.count <= options.limit);
    t.true(memory.subarray(result.bytes).every((b) => b === 0xee), 'nothing written past the layout');
    pairs.push(...written.map(([k, v]): [Buffer, Buffer | undefined] => [Buffer.from(k), v === undefined ? undefined : Buffer.from(v)]));
    if (result.resume === undefined) break;
    t.deepEqual(result.resume, written[written.length - 1]![0], 'resume is the last key written');
    cursor = options.reverse === true ? { ...(bounds.gte === undefined ? {} : { gte: bounds.gte }), lt: result.resume as Buffer }
      : { ...(bounds.lt === undefined ? {} : { lt: bounds.lt }), gt: result.resume as Buffer };
  }
  client.deregisterRegion(d);
  return { pairs, calls };
}

for (const which of ['hash', 'range'] as const) {
  test.serial(`scanIntoRegion: fits, resumes in global order forward and reverse, limit, empty, too small (${which} group)`, async (t) => {
    const g = which === 'hash' ? hash : range;
    const { client } = g;
    await client.putMany(SCAN, { db: 'scan' });
    // A range that fits: exact count and bytes, no resume.
    const inRange = SCAN.filter(([k]) => Buffer.compare(k, u64Key(1000)) >= 0 && Buffer.compare(k, u64Key(7000)) < 0);
    const big = Buffer.alloc(packedPairsBytes(SCAN) + 64, 0xee);
    const bigD = await client.registerRegion(big);
    const fits = await (await client.scanIntoRegion(bigD, { gte: u64Key(1000), lt: u64Key(7000) }, { db: 'scan' })).wait();
    t.deepEqual(fits, { count: inRange.length, bytes: packedPairsBytes(inRange), resume: undefined });
    t.true(big.subarray(0, fits.bytes).equals(packPairs(inRange)));
    t.true(big.subarray(fits.bytes).every((b) => b === 0xee));
    // The whole store, exactly filling the region.
    const whole = await (await client.scanIntoRegion(client.sliceRegion(bigD, 0, packedPairsBytes(SCAN)), {}, { db: 'scan' })).wait();
    t.deepEqual(whole, { count: 250, bytes: packedPairsBytes(SCAN), resume: undefined });
    // An empty range writes a count of 0.
    for (const empty of [{ gt: regionKey(41), lt: regionKey(79) }, { gt: regionKey(20_000) }]) {
      big.fill(0xee);
      t.deepEqual(await (await client.scanIntoRegion(bigD, empty, { db: 'scan' })).wait(), { count: 0, bytes: 4, resume: undefined });
      t.true(big.subarray(0, 4).equals(Buffer.alloc(4)));
      t.true(big.subarray(4).every((b) => b === 0xee));
    }
    client.deregisterRegion(bigD);
    // Ranges that do not fit, continued from their resume keys.
    const forward = await scanAll(t, g, 300, {});
    t.deepEqual(text(forward.pairs), text(SCAN));
    t.is(forward.calls, greedyCalls(SCAN, 300), 'each call writes as many pairs as fit');
    const reverse = await scanAll(t, g, 300, { reverse: true });
    t.deepEqual(text(reverse.pairs), text([...SCAN].reverse()));
    t.is(reverse.calls, greedyCalls([...SCAN].reverse(), 300));
    const limited = await scanAll(t, g, 1 << 16, { limit: 7 });
    t.deepEqual(text(limited.pairs), text(SCAN));
    t.is(limited.calls, 36, '35 calls of 7, then the last 5');
    const tens = await scanAll(t, g, 1 << 16, { limit: 10 });
    t.deepEqual(text(tens.pairs), text(SCAN));
    t.is(tens.calls, 25, 'the call that writes the last 10 says there is nothing more');
    const reverseLimited = await scanAll(t, g, 1 << 16, { reverse: true, limit: 7 }, { gte: u64Key(2000), lt: u64Key(8000) });
    t.deepEqual(text(reverseLimited.pairs), text(SCAN.filter(([k]) => Buffer.compare(k, u64Key(2000)) >= 0 && Buffer.compare(k, u64Key(8000)) < 0).reverse()));
    // A region too small for even one pair: REGION_TOO_SMALL with what the first pair needs; nothing written.
    const tiny = Buffer.alloc(40, 0xee);
    const tinyD = await client.registerRegion(tiny);
    const first = await client.scanIntoRegion(tinyD, {}, { db: 'scan' });
    const error = await failsWith(t, first.wait(), ErrorCodes.REGION_TOO_SMALL, 'one pair does not fit');
    t.is(error?.details['bytesNeeded'], packedPairsBytes([SCAN[0]!]));
    t.true(tiny.every((b) => b === 0xee));
    const last = await (await client.scanIntoRegion(tinyD, { reverse: true }, { db: 'scan' })).wait();
    t.is(last.count, 1, 'the last pair fits, read in reverse');
    t.deepEqual(text(unpackPairs(tiny.subarray(0, last.bytes))), text([SCAN[249]!]));
    await failsWith(t, client.scanIntoRegion(client.sliceRegion(tinyD, 0, 3), {}, { db: 'scan' }), ErrorCodes.REGION_TOO_SMALL, '3 bytes');
    client.deregisterRegion(tinyD);
  });
}

// ---- 5: errors --------------------------------------------------------------------------------

test.serial('descriptors outside their region: REGION_BOUNDS at the client, or on the handle from the owner; the servers keep serving', async (t) => {
  const { client } = hash;
  const other = await Client.open(hash.group.groupFile);
  try {
    const memory = Buffer.alloc(100);
    const d = await client.registerRegion(memory);
    const sub = client.sliceRegion(d, 10, 50);
    t.deepEqual(sub, { ...d, offset: 10, length: 50 });
    t.deepEqual(client.sliceRegion(sub, 40, 10), { ...d, offset: 50, length: 10 });
    for (const [offset, length] of [[40, 11], [51, 0], [-1, 5], [0.5, 1]] as const) {
      t.is(t.throws(() => client.sliceRegion(sub, offset, length), { instanceOf: HpckvError })?.code, ErrorCodes.REGION_BOUNDS, `${offset}+${length}`);
    }
    // A forged descriptor longer than its registered region: the owner refuses at the call...
    packPairs([[Buffer.from('bounds-k'), Buffer.from('v')]], memory);
    await failsWith(t, client.putFromRegion({ ...d, length: 101 }), ErrorCodes.REGION_BOUNDS, 'own forged put');
    // ...and on the handle when the servers reach past the memory (the owner checks every access).
    const overrun = Buffer.alloc(100);
    overrun.writeUInt32LE(1, 0);
    overrun.writeUInt32LE(8, 4);
    overrun.writeUInt32LE(200, 8);
    overrun.write('bounds-x', 12);
    const overrunD = await client.registerRegion(overrun);
    const proxied = await other.putFromRegion({ ...overrunD, length: 400 }, { db: 'errors' });
    await failsWith(t, proxied.wait(), ErrorCodes.REGION_BOUNDS, 'server pulls past the memory');
    const intoPast = await client.getIntoRegion([Buffer.from('bounds-k')], { ...d, offset: 100, length: 100 }, { db: 'errors' });
    memory.fill(0);
    await failsWith(t, intoPast.wait(), ErrorCodes.REGION_BOUNDS, 'server pushes past the memory');
    t.true(memory.equals(Buffer.alloc(100)), 'nothing written');
    t.is(await client.get('bounds-x', { db: 'errors' }), undefined);
    t.deepEqual(await records(client, 'errors'), [0, 0, 0]);
    // The servers keep serving, region operations included.
    await other.put('after-bounds', 'ok', { db: 'errors' });
    t.is((await client.get('after-bounds', { db: 'errors' }))?.toString(), 'ok');
    packPairs([[Buffer.from('bounds-k'), Buffer.from('v')]], memory);
    t.is(await (await other.putFromRegion(client.sliceRegion(d, 0, 25), { db: 'errors' })).wait(), 1);
    t.is((await other.get('bounds-k', { db: 'errors' }))?.toString(), 'v');
    await other.delMany(['after-bounds', 'bounds-k'], { db: 'errors' });
    client.deregisterRegion(d);
    client.deregisterRegion(overrunD);
  } finally {
    await other.close();
  }
});

test.serial('access modes: no pull from a write-only region, no push into a read-only one, even with a forged mode', async (t) => {
  const { client } = hash;
  const pairs = regionPairs(500, 10, 1, 'access-');
  const writeOnly = await client.registerRegion(packPairs(pairs), 'w');
  for (const d of [writeOnly, { ...writeOnly, access: 'rw' as const }]) {
    await failsWith(t, (await client.putFromRegion(d, { db: 'errors' })).wait(), ErrorCodes.REGION_ACCESS, `put from ${d.access}`);
  }
  t.deepEqual(await client.getMany(pairs.map(([k]) => k), { db: 'errors' }), pairs.map(() => undefined));
  await client.putMany(pairs, { db: 'errors' });
  const memory = Buffer.alloc(packedPairsBytes(pairs));
  const readOnly = await client.registerRegion(memory, 'r');
  for (const d of [readOnly, { ...readOnly, access: 'rw' as const }]) {
    await failsWith(t, (await client.getIntoRegion(pairs.map(([k]) => k), d, { db: 'errors' })).wait(), ErrorCodes.REGION_ACCESS, `get into ${d.access}`);
    const scan = await client.scanIntoRegion(d, {}, { db: 'errors' });
    await failsWith(t, scan.wait(), ErrorCodes.REGION_ACCESS, `scan into ${d.access}`);
  }
  t.true(memory.equals(Buffer.alloc(memory.length)), 'nothing written');
  await client.delMany(pairs.map(([k]) => k), { db: 'errors' });
  client.deregisterRegion(writeOnly);
  client.deregisterRegion(readOnly);
});

test.serial('malformed layouts are BAD_LAYOUT (at the owner\'s call, or on the handle from the servers) and write nothing', async (t) => {
  const { client } = hash;
  const other = await Client.open(hash.group.groupFile);
  try {
    const good = packPairs(regionPairs(600, 5, 1, 'layout-'));
    const hugeCount = Buffer.from(good);
    hugeCount.writeUInt32LE(1000, 0);
    const valueOverrun = Buffer.from(good);
    valueOverrun.writeUInt32LE(good.length, 4 + 4 * 5 + 4 * 4);
    const keyOverrun = Buffer.from(good);
    keyOverrun.writeUInt32LE(0xffff_fff0, 4);
    const absent = Buffer.from(good);
    absent.writeUInt32LE(PACKED_ABSENT, 4 + 4 * 5 + 4 * 2);
    for (const [name, bytes] of [['count', hugeCount], ['value size', valueOverrun], ['key size', keyOverrun], ['absent value', absent]] as const) {
      const d = await client.registerRegion(bytes, 'r');
      await failsWith(t, client.putFromRegion(d, { db: 'errors' }), ErrorCodes.BAD_LAYOUT, `${name}, own region`);
      await failsWith(t, (await other.putFromRegion(d, { db: 'errors' })).wait(), ErrorCodes.BAD_LAYOUT, `${name}, pulled by the servers`);
      client.deregisterRegion(d);
    }
    const tooShort = await client.registerRegion(Buffer.from([1, 0]), 'r');
    await failsWith(t, client.putFromRegion(tooShort, { db: 'errors' }), ErrorCodes.BAD_LAYOUT, '2 bytes, own region');
    await failsWith(t, (await other.putFromRegion(tooShort, { db: 'errors' })).wait(), ErrorCodes.BAD_LAYOUT, '2 bytes, pulled');
    client.deregisterRegion(tooShort);
    t.deepEqual(await client.getMany(unpackPairs(good).map(([k]) => k), { db: 'errors' }), [undefined, undefined, undefined, undefined, undefined]);
    t.deepEqual(await records(client, 'errors'), [0, 0, 0]);
  } finally {
    await other.close();
  }
});

test.serial('deregistering a region with an operation pending is REGION_BUSY, and works once it completed', async (t) => {
  const { client } = hash;
  const pairs = regionPairs(700, 8, 1, 'busy-');
  const d = await client.registerRegion(packPairs(pairs), 'r');
  const out = await client.registerRegion(Buffer.alloc(packedPairsBytes(pairs)), 'w');
  const [put, get] = await held(hash, async () => {
    const p = await client.putFromRegion(d, { db: 'errors' });
    const g = await client.getIntoRegion([pairs[0]![0]], out, { db: 'errors' });
    for (const region of [d, out]) {
      const error = t.throws(() => client.deregisterRegion(region), { instanceOf: HpckvError });
      t.is(error?.code, ErrorCodes.REGION_BUSY);
      t.is(error?.details['pending'], 1);
    }
    return [p, g];
  });
  t.is(await put.wait(), 8);
  t.is(await get.wait(), 0, 'the get read its key while the put was held: not stored yet');
  client.deregisterRegion(d);
  client.deregisterRegion(out);
  await client.delMany(pairs.map(([k]) => k), { db: 'errors' });
});

test.serial('a deregistered region, or an owner no server knows, is UNKNOWN_REGION', async (t) => {
  const { client } = hash;
  const other = await Client.open(hash.group.groupFile);
  try {
    const pairs = regionPairs(800, 6, 1, 'gone-');
    const d = await client.registerRegion(packPairs(pairs));
    client.deregisterRegion(d);
    t.is(t.throws(() => client.deregisterRegion(d), { instanceOf: HpckvError })?.code, ErrorCodes.UNKNOWN_REGION);
    await failsWith(t, (await other.putFromRegion(d, { db: 'errors' })).wait(), ErrorCodes.UNKNOWN_REGION, 'put by another client');
    await failsWith(t, (await client.putFromRegion(d, { db: 'errors' })).wait(), ErrorCodes.UNKNOWN_REGION, 'put by its former owner');
    await client.putMany(pairs, { db: 'errors' });
    await failsWith(t, (await client.getIntoRegion([pairs[0]![0]], d, { db: 'errors' })).wait(), ErrorCodes.UNKNOWN_REGION, 'get into it');
    const stranger: RegionDescriptor = { ...d, owner: 'f'.repeat(32) };
    await failsWith(t, (await client.putFromRegion(stranger, { db: 'errors' })).wait(), ErrorCodes.UNKNOWN_REGION, 'unattached owner');
    await failsWith(t, (await client.getIntoRegion([pairs[0]![0]], stranger, { db: 'errors' })).wait(), ErrorCodes.UNKNOWN_REGION, 'unattached owner, get');
    await client.delMany(pairs.map(([k]) => k), { db: 'errors' });
    t.deepEqual(await records(client, 'errors'), [0, 0, 0]);
  } finally {
    await other.close();
  }
});

// ---- 6: concurrency ---------------------------------------------------------------------------

test.serial('50 puts, then 50 gets and 50 more puts, all outstanding at once', async (t) => {
  const { client } = range;
  const batches = Array.from({ length: 100 }, (_, b) => regionPairs(b * 97, 20, 1, `many-${b}-`));
  const sources = await Promise.all(batches.map((pairs) => client.registerRegion(packPairs(pairs), 'r')));
  const puts = await Promise.all(sources.slice(0, 50).map((d) => client.putFromRegion(d, { db: 'many' })));
  t.is(client.poll(puts).length, 50);
  t.deepEqual(await Promise.all(puts.map((h) => h.wait())), puts.map(() => 20));
  const outs = batches.slice(0, 50).map((pairs) => Buffer.alloc(packedPairsBytes(pairs)));
  const outDs = await Promise.all(outs.map((out) => client.registerRegion(out, 'w')));
  const started = await Promise.all([
    ...batches.slice(0, 50).map((pairs, i) => client.getIntoRegion(pairs.map(([k]) => k), outDs[i]!, { db: 'many' })),
    ...sources.slice(50).map((d) => client.putFromRegion(d, { db: 'many' })),
  ]);
  t.deepEqual(await Promise.all(started.map((h) => h.wait())), started.map(() => 20));
  outs.forEach((out, i) => t.true(out.equals(packPairs(batches[i]!)), `batch ${i}`));
  const later = batches.slice(50).flat();
  t.deepEqual((await client.getMany(later.map(([k]) => k), { db: 'many' })).map((v) => v?.toString('hex')), later.map(([, v]) => v.toString('hex')));
  t.is(sum(await records(client, 'many')), new Set(batches.flat().map(([k]) => k.toString('hex'))).size);
  for (const d of [...sources, ...outDs]) client.deregisterRegion(d);
});

// ---- 7, 8: a third process owns the memory ----------------------------------------------------

interface Owner {
  readonly child: ChildProcess;
  readonly put: RegionDescriptor;
  readonly into: RegionDescriptor;
  nextLine(): Promise<string>;
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;
}

async function spawnOwner(g: Running, first: number, count: number, tag: string, outBytes: number): Promise<Owner> {
  const child = spawn(process.execPath, ['--no-node-snapshot', OWNER_FIXTURE, g.group.groupFile, String(first), String(count), tag, String(outBytes)],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const nextLine = async (): Promise<string> => {
    const line = await lines.next();
    if (line.done === true) throw new Error('the region owner ended its output');
    return line.value;
  };
  const { put, into } = JSON.parse(await nextLine()) as { put: RegionDescriptor; into: RegionDescriptor };
  return { child, put, into, nextLine, exited };
}

test.serial('proxy: the servers pull from, and push into, the memory of a third process', async (t) => {
  const { client } = small;
  const pairs = regionPairs(0, 300, 1, 'proxy-');
  const keys = [regionKey(5_000), ...pairs.slice(0, 120).map(([k]) => k)];
  const expected: Array<[Buffer, Buffer | undefined]> = [[keys[0]!, undefined], ...pairs.slice(0, 120)];
  const outBytes = packedPairsBytes(expected) + 16;
  const owner = await spawnOwner(small, 0, 300, 'proxy-', outBytes);
  t.is(owner.put.access, 'r');
  t.is(owner.into.owner, owner.put.owner);
  t.not(owner.put.owner, (client as unknown as { registry: RegionRegistry }).registry.owner, 'another process owns it');
  const put = await client.putFromRegion(owner.put, { db: 'proxy' });
  t.is(await put.wait(), 300);
  t.deepEqual((await client.getMany(pairs.map(([k]) => k), { db: 'proxy' })).map((v) => v?.toString('hex')), pairs.map(([, v]) => v.toString('hex')));
  const get = await client.getIntoRegion(keys, owner.into, { db: 'proxy' });
  t.is(await get.wait(), keys.length - 1, 'every key but the missing first one');
  owner.child.stdin!.write('dump\n');
  const bytes = Buffer.from(await owner.nextLine(), 'base64');
  t.is(bytes.length, outBytes);
  t.true(bytes.equals(Buffer.concat([packPairs(expected), Buffer.alloc(16)])));
  owner.child.stdin!.end();
  t.deepEqual(await owner.exited, [0, null]);
});

test.serial('an owner killed mid-pull: the put fails on its handle, writes nothing, and the servers keep serving', async (t) => {
  const { client } = small;
  const count = 3000;
  const source = packPairs(regionPairs(10_000, count, 1, 'cut-'));
  t.true(source.length > 30 * 4096, `${source.length} bytes take many 4096-byte chunks`);
  const owner = await spawnOwner(small, 10_000, count, 'cut-', 4);
  const before = await records(client, 'cut');
  t.deepEqual(before, [0, 0]);
  const put = await held(small, async () => {
    const handle = await client.putFromRegion(owner.put, { db: 'cut' });
    owner.child.kill('SIGKILL');
    t.deepEqual(await owner.exited, [null, 'SIGKILL']);
    return handle;
  }, 2);
  const error = await t.throwsAsync(put.wait(), { instanceOf: HpckvError });
  t.true(error?.code === ErrorCodes.CONNECTION_CLOSED || error?.code === ErrorCodes.UNKNOWN_REGION, error?.code);
  t.deepEqual(await records(client, 'cut'), before, 'stats unchanged');
  const keys = regionPairs(10_000, count, 1, 'cut-').map(([k]) => k);
  t.true((await client.getMany(keys, { db: 'cut' })).every((v) => v === undefined), 'no key of the region readable');
  // Another client, plain and region operations: the servers serve on.
  const other = await Client.open(small.group.groupFile);
  try {
    await other.put('after-cut', 'fine', { db: 'cut' });
    t.is((await client.get('after-cut', { db: 'cut' }))?.toString(), 'fine');
    const d = await other.registerRegion(packPairs(regionPairs(10_000, 50, 1, 'cut-')), 'r');
    t.is(await (await other.putFromRegion(d, { db: 'cut' })).wait(), 50);
    t.is(sum(await records(client, 'cut')), 51);
  } finally {
    await other.close();
  }
});

// ---- 9: the co-located fast path --------------------------------------------------------------

test.serial('in-process group: regions are read and written in place (no back-channel message), SharedArrayBuffer included', async (t) => {
  const inprocDir = join(dir, 'inproc');
  const limits = resolveLimits();
  const { servers, group, stop } = await startInprocServers(inprocDir, 'inproc-regions');
  const client = await Client.fromGroup(group);
  const raw = await Promise.all(servers.map((s) => RpcClient.connect(s.address, limits)));
  try {
    const registry = (client as unknown as { registry: RegionRegistry }).registry;
    const counts = { read: 0, write: 0, backChannel: 0 };
    const { read, write, serve } = registry;
    registry.read = (...args) => { counts.read++; return read.apply(registry, args); };
    registry.write = (...args) => { counts.write++; return write.apply(registry, args); };
    registry.serve = (op, body) => { if (op === 'regionRead' || op === 'regionWrite') counts.backChannel++; return serve.call(registry, op, body); };

    const pairs = regionPairs(0, 500, 1, 'local-');
    const shared = new SharedArrayBuffer(packedPairsBytes(pairs));
    packPairs(pairs, new Uint8Array(shared));
    const d = await client.registerRegion(shared, 'r');
    t.is(localOwner(d.owner), registry, 'servers in this process find the owner');
    // The hold hook holds the co-located path too.
    await Promise.all(raw.map((r) => r.call('regionTestHold', { hold: true })));
    const put = await client.putFromRegion(d);
    t.false(put.test());
    t.is(await client.get(pairs[0]![0]), undefined);
    await Promise.all(raw.map((r) => r.call('regionTestHold', { hold: false })));
    t.is(await put.wait(), 500);
    t.deepEqual((await client.getMany(pairs.map(([k]) => k))).map((v) => v?.toString('hex')), pairs.map(([, v]) => v.toString('hex')));
    const readsByPut = counts.read;
    t.true(readsByPut >= 2, `${readsByPut} direct reads`);

    const out = new SharedArrayBuffer(packedPairsBytes(pairs));
    const outD = await client.registerRegion(out, 'w');
    t.is(await (await client.getIntoRegion(pairs.map(([k]) => k), outD)).wait(), 500);
    t.true(Buffer.from(out).equals(Buffer.from(shared)));
    const writesByGet = counts.write;
    t.true(writesByGet >= 1);

    const scanMemory = new Uint8Array(packedPairsBytes(pairs.slice(0, 10)));
    const scanD = await client.registerRegion(scanMemory, 'w');
    const sorted = [...pairs].sort(([a], [b]) => Buffer.compare(a, b));
    const scan = await (await client.scanIntoRegion(scanD, { limit: 10 })).wait();
    t.is(scan.count, 10);
    t.deepEqual(scan.resume, sorted[9]![0]);
    t.true(Buffer.from(scanMemory).equals(packPairs(sorted.slice(0, 10))));
    t.true(counts.write > writesByGet);
    t.is(counts.backChannel, 0, 'no regionRead or regionWrite reached the client');
    for (const region of [d, outD, scanD]) client.deregisterRegion(region);
  } finally {
    for (const r of raw) r.close();
    await client.close();
    await stop();
  }
});

test.serial('eager put: a small region whose pairs all go to one server travels with the request (no pull), and still completes only once stored', async (t) => {
  const { client } = range;
  const registry = (client as unknown as { registry: RegionRegistry }).registry;
  let pulls = 0;
  const { serve } = registry;
  registry.serve = (op, body) => { if (op === 'regionRead') pulls++; return serve.call(registry, op, body); };
  try {
    // Keys 10..59 all fall below the first boundary (3334): server 0 takes every pair.
    const pairs = regionPairs(10, 50, 1, 'eager-');
    const d = await client.registerRegion(packPairs(pairs), 'r');
    let handle: RegionHandle<number> | undefined;
    await held(range, async () => {
      handle = await client.putFromRegion(d, { db: 'flow' });
      t.false(handle.test());
      t.is(await client.get(pairs[1]![0], { db: 'flow' }), undefined, 'not stored while held');
    });
    t.is(await handle!.wait(), 50);
    t.is(pulls, 0, 'the server pulled nothing');
    t.deepEqual((await client.getMany(pairs.map(([k]) => k), { db: 'flow' })).map((v) => v?.toString('hex')), pairs.map(([, v]) => v.toString('hex')));
    // Spread over two servers, the same put is pulled.
    const spread = [...regionPairs(3000, 5, 1, 'spread-'), ...regionPairs(4000, 5, 1, 'spread-')];
    const spreadD = await client.registerRegion(packPairs(spread), 'r');
    t.is(await (await client.putFromRegion(spreadD, { db: 'flow' })).wait(), 10);
    t.true(pulls > 0, 'pairs for two servers are pulled');
    client.deregisterRegion(d);
    client.deregisterRegion(spreadD);
  } finally {
    registry.serve = serve;
  }
});

test.serial('malformed region requests over a raw connection are typed errors, and the server keeps serving', async (t) => {
  const raw = hash.raw[0]!;
  const owner = 'ab'.repeat(16);
  const region = { owner, region: 1, offset: 0, length: 64, access: 'rw' };
  const cases: Array<[string, unknown, ErrorCode]> = [
    ['regionAttach', { owner: 'not-hex' }, ErrorCodes.BAD_REQUEST],
    ['regionAttach', [], ErrorCodes.BAD_REQUEST],
    ['regionPut', { db: 'flow', region: { ...region, access: 'x' } }, ErrorCodes.BAD_REQUEST],
    ['regionPut', { db: 'flow', region: { ...region, offset: -1 } }, ErrorCodes.BAD_REQUEST],
    ['regionPut', { db: 'flow', region: { ...region, length: 2 ** 60 } }, ErrorCodes.BAD_REQUEST],
    ['regionPut', { db: 'nope', region }, ErrorCodes.UNKNOWN_DATABASE],
    ['regionPut', { db: 'flow', region, indices: Buffer.alloc(3) }, ErrorCodes.BAD_REQUEST],
    ['regionPut', { db: 'flow', region, indices: Buffer.from([2, 0, 0, 0, 1, 0, 0, 0]) }, ErrorCodes.BAD_REQUEST],
    ['regionPut', { db: 'flow', region, data: Buffer.alloc(3) }, ErrorCodes.BAD_REQUEST],
    ['regionStage', { db: 'flow', bytesMax: 10 }, ErrorCodes.BAD_REQUEST],
    ['regionStage', { db: 'flow', bytesMax: -1, packedKeys: Buffer.alloc(4) }, ErrorCodes.BAD_REQUEST],
    ['regionStage', { db: 'flow', bytesMax: 10, packedKeys: 'keys' }, ErrorCodes.BAD_REQUEST],
    ['regionStage', { db: 'flow', bytesMax: 10, range: { gt: 5 } }, ErrorCodes.BAD_REQUEST],
    ['regionStage', { db: 'flow', bytesMax: 10, range: {}, push: { region, layout: 'packed' } }, ErrorCodes.BAD_REQUEST],
    ['regionStage', { db: 'flow', bytesMax: 10, packedKeys: Buffer.from([1, 0, 0, 0, 1, 0, 0, 0, 0x61]), push: { region, layout: 'slots' } }, ErrorCodes.BAD_REQUEST],
    ['regionPush', { op: 999_999, region, placements: [], block: null, blockOffset: 0 }, ErrorCodes.BAD_REQUEST],
    ['regionPush', { op: 1, region, placements: [1, 2], block: null }, ErrorCodes.BAD_REQUEST],
    ['regionPush', { op: 1, region, placements: [], block: 'x' }, ErrorCodes.BAD_REQUEST],
    ['regionRelease', { op: 'x' }, ErrorCodes.BAD_REQUEST],
    ['regionTestHold', { hold: 'yes' }, ErrorCodes.BAD_REQUEST],
  ];
  for (const [op, body, code] of cases) {
    const error = await t.throwsAsync(raw.call(op, body), { instanceOf: HpckvError }, `${op} ${JSON.stringify(body)}`);
    t.is(error?.code, code, `${op}: ${error?.message ?? ''}`);
  }
  // Releasing an operation that was never staged is harmless; the server answers everyone after all this.
  t.is(await raw.call('regionRelease', { op: 424242 }), null);
  await hash.client.put('after-garbage', 'ok', { db: 'flow' });
  t.is((await hash.client.get('after-garbage', { db: 'flow' }))?.toString(), 'ok');
});

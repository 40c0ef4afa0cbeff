import test from 'ava';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../../../server/index.js';
import { createInprocWorld } from '../../../core/comm/inproc-endpoint.js';
import type { Communicator } from '../../../core/comm/communicator.js';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import {
  MDHIM_BYTE_KEY, MDHIM_DB_APPEND, MDHIM_DB_ERROR, MDHIM_DOUBLE_KEY, MDHIM_ERROR, MDHIM_GET_EQ, MDHIM_GET_FIRST,
  MDHIM_GET_LAST, MDHIM_GET_NEXT, MDHIM_GET_PREV, MDHIM_INT_KEY, MDHIM_LONG_INT_KEY, MDHIM_STRING_KEY, MDHIM_SUCCESS,
  mdhimBDelete, mdhimBGet, mdhimBGetOp, mdhimBPut, mdhimClose, mdhimCommit, mdhimDelete, mdhimGet, mdhimInit,
  mdhimOptionsInit, mdhimPut, mdhimStatFlush, type MdhimContext, type MdhimOptions,
} from '../../../client/mdhim.js';
import { runRank } from '../../support/run-rank.js';

/**
 * The MDHIM facade over a world of 4 ranks (in-process communicator; the range servers are real
 * rpc servers on Unix sockets in this process, as MDHIM runs range-server threads in its ranks).
 */
async function withWorld<T>(size: number, options: Partial<MdhimOptions>, body: (md: MdhimContext, comm: Communicator) => Promise<T>): Promise<T[]> {
  const world = createInprocWorld(size);
  const results = await Promise.all(world.map(async (comm) => {
    const md = await mdhimInit(comm, { ...mdhimOptionsInit(), ...options });
    try {
      return await body(md, comm);
    } finally {
      await mdhimClose(md);
    }
  }));
  await Promise.all(world.map((comm) => comm.close()));
  return results;
}

function ok(result: { error: number }, what: string): void {
  if (result.error !== MDHIM_SUCCESS) throw new Error(`${what} returned ${result.error}`);
}

test('4 ranks, range servers on ranks 0 and 2, int keys in slices of 50: puts, FIRST/NEXT walk, LAST/PREV walk, BGetOp across servers', async (t) => {
  const dbPath = await mkdtemp(join(tmpdir(), 'hpckv-mdhim-'));
  const reports = await withWorld(4, { dbPath, dbName: 'ints', keyType: MDHIM_INT_KEY, rserverFactor: 2, maxRecsPerSlice: 50 }, async (md, comm) => {
    // Rank r writes 100 keys: -200 + 100r .. -101 + 100r; all ranks together -200..199.
    const keys = Array.from({ length: 100 }, (_, i) => -200 + 100 * comm.rank + i);
    ok(await mdhimBPut(md, keys.slice(0, 50), keys.slice(0, 50).map((k) => `v${k}`)), 'mdhimBPut');
    for (const key of keys.slice(50)) ok(await mdhimPut(md, key, `v${key}`), 'mdhimPut');
    t.is(await mdhimCommit(md), MDHIM_SUCCESS);
    t.is(await mdhimStatFlush(md), MDHIM_SUCCESS);
    // Every rank walks the whole key space, which spans both range servers.
    const forward: number[] = [];
    let step = await mdhimGet(md, undefined, MDHIM_GET_FIRST);
    while (step.error === MDHIM_SUCCESS) {
      forward.push(step.keys[0] as number);
      step = await mdhimGet(md, step.keys[0], MDHIM_GET_NEXT);
    }
    const endOfData = step.error;
    const backward: number[] = [];
    step = await mdhimGet(md, undefined, MDHIM_GET_LAST);
    while (step.error === MDHIM_SUCCESS) {
      backward.push(step.keys[0] as number);
      step = await mdhimGet(md, step.keys[0], MDHIM_GET_PREV);
    }
    const run = await mdhimBGetOp(md, 45, 10, MDHIM_GET_NEXT);
    const runBack = await mdhimBGetOp(md, 3, 5, MDHIM_GET_PREV);
    const fromEq = await mdhimBGetOp(md, 98, 5, MDHIM_GET_EQ);
    const firstFew = await mdhimBGetOp(md, undefined, 3, MDHIM_GET_FIRST);
    const lastFew = await mdhimBGetOp(md, undefined, 3, MDHIM_GET_LAST);
    const eq = await mdhimGet(md, -7, MDHIM_GET_EQ);
    const bget = await mdhimBGet(md, [5, 1000, -200], MDHIM_GET_EQ);
    const neighbours = await mdhimBGet(md, [10, -1000], MDHIM_GET_NEXT);
    return {
      rank: comm.rank, server: md.server !== undefined, servers: md.rangeServers, forward, backward, endOfData,
      stats: md.stats.map((s) => [s.rank, s.records, s.min, s.max]),
      slices: md.sliceStats.map((s) => [s.slice, s.rank, s.records, s.min, s.max]),
      run: run.keys, runValues: run.values.map(String), runBack: runBack.keys, fromEq: fromEq.keys,
      firstFew: firstFew.keys, lastFew: lastFew.keys, eq: [eq.error, eq.keys, eq.values.map(String)],
      bget: [bget.error, bget.numKeys, bget.keys, bget.values.map(String)], neighbours: neighbours.keys,
    };
  });
  const all = Array.from({ length: 400 }, (_, i) => -200 + i);
  for (const r of reports) {
    t.is(r.server, r.rank % 2 === 0, 'ranks 0 and 2 host the range servers');
    t.is(r.servers, 2);
    t.deepEqual(r.forward, all);
    t.is(r.endOfData, MDHIM_DB_ERROR);
    t.deepEqual(r.backward, [...all].reverse());
    // slice = floor(key / 50), server = slice mod 2: even slices on server 0, odd on server 1.
    t.deepEqual(r.stats, [[0, 200, -200, 149], [1, 200, -150, 199]]);
    t.deepEqual(r.slices, Array.from({ length: 8 }, (_, i) => [BigInt(i - 4), (i - 4 + 8) % 2, 50, 50 * (i - 4), 50 * (i - 4) + 49]),
      'slices -4..3 of 50 keys each, owned round-robin (slice mod 2)');
    t.deepEqual(r.run, [46, 47, 48, 49, 50, 51, 52, 53, 54, 55], 'continues from server 0 onto server 1');
    t.deepEqual(r.runValues, ['v46', 'v47', 'v48', 'v49', 'v50', 'v51', 'v52', 'v53', 'v54', 'v55']);
    t.deepEqual(r.runBack, [2, 1, 0, -1, -2]);
    t.deepEqual(r.fromEq, [98, 99, 100, 101, 102]);
    t.deepEqual(r.firstFew, [-200, -199, -198]);
    t.deepEqual(r.lastFew, [199, 198, 197]);
    t.deepEqual(r.eq, [MDHIM_SUCCESS, [-7], ['v-7']]);
    t.deepEqual(r.bget, [MDHIM_SUCCESS, 2, [5, -200], ['v5', 'v-200']]);
    t.deepEqual(r.neighbours, [11, -200], 'NEXT of an absent key is its true successor');
  }
  // Each range server keeps its store under <dbPath>/<dbName>/rank-<r>.
  t.deepEqual((await readdir(join(dbPath, 'ints'))).filter((name) => name.startsWith('rank-')).sort(), ['rank-0', 'rank-1']);
  await rm(dbPath, { recursive: true, force: true });
});

test('deletes, bulk deletes and missing keys; double keys keep their sign order; string and byte keys are ordered', async (t) => {
  const dbPath = await mkdtemp(join(tmpdir(), 'hpckv-mdhim-'));
  await withWorld(2, { dbPath, dbName: 'doubles', keyType: MDHIM_DOUBLE_KEY, maxRecsPerSlice: 10 }, async (md, comm) => {
    if (comm.rank === 0) {
      const keys = [-1e9, -55.5, -10, -0.25, 0, 0.25, 9.99, 10, 1e9];
      ok(await mdhimBPut(md, keys, keys.map(String)), 'mdhimBPut');
    }
    await mdhimStatFlush(md);
    const walk = await mdhimBGetOp(md, undefined, 100, MDHIM_GET_FIRST);
    t.deepEqual(walk.keys, [-1e9, -55.5, -10, -0.25, 0, 0.25, 9.99, 10, 1e9]);
    t.deepEqual((await mdhimGet(md, -0.3, MDHIM_GET_NEXT)).keys, [-0.25]);
    t.deepEqual((await mdhimGet(md, -10, MDHIM_GET_PREV)).keys, [-55.5]);
    await mdhimStatFlush(md);
    if (comm.rank === 1) {
      ok(await mdhimDelete(md, -10), 'mdhimDelete');
      ok(await mdhimDelete(md, 12345), 'deleting a missing key succeeds');
      ok(await mdhimBDelete(md, [1e9, -1e9]), 'mdhimBDelete');
    }
    await mdhimStatFlush(md);
    t.deepEqual((await mdhimBGetOp(md, undefined, 100, MDHIM_GET_FIRST)).keys, [-55.5, -0.25, 0, 0.25, 9.99, 10]);
    const missing = await mdhimGet(md, -10, MDHIM_GET_EQ);
    t.deepEqual([missing.error, missing.numKeys], [MDHIM_DB_ERROR, 0]);
    t.is((await mdhimGet(md, 10, MDHIM_GET_NEXT)).error, MDHIM_DB_ERROR, 'end of data');
    t.deepEqual(md.stats.reduce((sum, s) => sum + s.records, 0), 6);
    // Slices of 10 after the deletes: floor(-55.5 / 10) = -6, then -1, 0 (three keys) and 1; owner = slice mod 2.
    t.deepEqual(md.sliceStats.map((s) => [s.slice, s.rank, s.records, s.min, s.max]),
      [[-6n, 0, 1, -55.5, -55.5], [-1n, 1, 1, -0.25, -0.25], [0n, 0, 3, 0, 9.99], [1n, 1, 1, 10, 10]]);
  });
  await withWorld(2, { dbPath, dbName: 'strings', keyType: MDHIM_STRING_KEY, maxRecsPerSlice: 1000 }, async (md, comm) => {
    const words = ['zeta', 'Alpha', 'alpha', 'émile', '😀 smile', '', 'a\u0000b', '0-9', 'ALPHA'].filter((w) => w !== '');
    if (comm.rank === 1) ok(await mdhimBPut(md, words, words), 'mdhimBPut');
    await mdhimStatFlush(md);
    const sorted = [...words].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    t.deepEqual((await mdhimBGetOp(md, undefined, 100, MDHIM_GET_FIRST)).keys, sorted, 'any code point, in code point order');
  });
  await withWorld(2, { dbPath, dbName: 'bytes', keyType: MDHIM_BYTE_KEY, maxRecsPerSlice: 1000 }, async (md, comm) => {
    const keys = [[0xff], [0x00], [0x00, 0x00], [0x80, 0x01], [0x7f]].map((b) => Buffer.from(b));
    if (comm.rank === 0) ok(await mdhimBPut(md, keys, keys.map((k) => k.toString('hex'))), 'mdhimBPut');
    await mdhimStatFlush(md);
    t.deepEqual((await mdhimBGetOp(md, undefined, 100, MDHIM_GET_FIRST)).keys.map((k) => (k as Buffer).toString('hex')),
      ['00', '0000', '7f', '8001', 'ff'], 'plain byte order (MDHIM compares byte keys by length first)');
  });
  await rm(dbPath, { recursive: true, force: true });
});

test('long keys, append mode, bad options and calls after close', async (t) => {
  const dbPath = await mkdtemp(join(tmpdir(), 'hpckv-mdhim-'));
  await withWorld(2, { dbPath, dbName: 'longs', keyType: MDHIM_LONG_INT_KEY, valueAppend: MDHIM_DB_APPEND, maxRecsPerSlice: 3 }, async (md, comm) => {
    ok(await mdhimPut(md, 2n ** 40n, `r${comm.rank};`), 'mdhimPut');
    ok(await mdhimBPut(md, [7, 8], ['x', 'y']), 'mdhimBPut accepts safe integers for long keys');
    await mdhimStatFlush(md);
    const got = await mdhimGet(md, 2n ** 40n, MDHIM_GET_EQ);
    t.deepEqual(got.keys, [2n ** 40n]);
    t.true(['r0;r1;', 'r1;r0;'].includes(got.values[0]!.toString()), 'both ranks appended to the same record');
    t.deepEqual((await mdhimBGet(md, [7, 8], MDHIM_GET_EQ)).values.map(String), ['xx', 'yy']);
    const bad = await mdhimGet(md, 'not a long', MDHIM_GET_EQ);
    t.is(bad.error, MDHIM_ERROR);
    t.is((md.lastError as HpckvError).code, ErrorCodes.BAD_KEY);
    t.is((await mdhimGet(md, 1, 99)).error, MDHIM_ERROR);
    t.true(md.lastError instanceof TypeError);
    t.is((await mdhimBGetOp(md, 1, 0, MDHIM_GET_NEXT)).error, MDHIM_ERROR);
  });
  // After close every call fails with MDHIM_ERROR; a second close is harmless.
  const world = createInprocWorld(1);
  const md = await mdhimInit(world[0]!, { ...mdhimOptionsInit(), dbPath, dbName: 'closed' });
  t.is(await mdhimClose(md), MDHIM_SUCCESS);
  t.is((await mdhimPut(md, 1, 'x')).error, MDHIM_ERROR);
  t.is((await mdhimGet(md, 1, MDHIM_GET_EQ)).error, MDHIM_ERROR);
  t.is(await mdhimClose(md), MDHIM_SUCCESS);
  // Bad options are HPCKV_ERR_BAD_CONFIG (MDHIM returns NULL).
  for (const bad of [{ keyType: 42 }, { rserverFactor: 0 }, { maxRecsPerSlice: 1.5 }, { dbName: '' }, { dbName: '../x' }, { valueAppend: 3 }]) {
    const error = await t.throwsAsync(mdhimInit(world[0]!, { ...mdhimOptionsInit(), dbPath, ...bad } as MdhimOptions), { instanceOf: HpckvError });
    t.is(error?.code, ErrorCodes.BAD_CONFIG, JSON.stringify(bad));
  }
  await world[0]!.close();
  // Reopening a store with another slice size is refused: its keys would be unreachable.
  const again = createInprocWorld(1);
  await mdhimClose(await mdhimInit(again[0]!, { ...mdhimOptionsInit(), dbPath, dbName: 'reopen', maxRecsPerSlice: 10 }));
  const refused = await t.throwsAsync(mdhimInit(again[0]!, { ...mdhimOptionsInit(), dbPath, dbName: 'reopen', maxRecsPerSlice: 20 }), { instanceOf: HpckvError });
  t.is(refused?.code, ErrorCodes.GROUP_FILE);
  await again[0]!.close();
  await rm(dbPath, { recursive: true, force: true });
});

test('reopening a store with another slice size, key type or server count rejects with HPCKV_ERR_GROUP_FILE on every rank, client-only ranks too', async (t) => {
  const dbPath = await mkdtemp(join(tmpdir(), 'hpckv-mdhim-reopen-'));
  t.teardown(() => rm(dbPath, { recursive: true, force: true }));
  const world = createInprocWorld(4);
  t.teardown(() => Promise.all(world.map((comm) => comm.close())));
  const store = { ...mdhimOptionsInit(), dbPath, dbName: 'layout', keyType: MDHIM_LONG_INT_KEY, rserverFactor: 2, maxRecsPerSlice: 10 };
  await Promise.all(world.map(async (comm) => {
    const md = await mdhimInit(comm, store);
    if (comm.rank === 0) ok(await mdhimBPut(md, [1n, 15n, 30n], ['a', 'b', 'c']), 'mdhimBPut');
    t.is(await mdhimClose(md), MDHIM_SUCCESS);
  }));
  // Ranks 0 and 2 host the range servers (rserverFactor 2); ranks 1 and 3 are clients only and
  // learn the servers' failure through the communicator. Rank 0 is the first to fail.
  const changes: Array<[Partial<MdhimOptions>, string]> = [
    [{ maxRecsPerSlice: 20 }, 'partition'], [{ keyType: MDHIM_STRING_KEY }, 'keyType'], [{ rserverFactor: 4 }, 'serverCount'],
  ];
  for (const [change, field] of changes) {
    const errors = await Promise.all(world.map((comm) => mdhimInit(comm, { ...store, ...change }).then(
      () => t.fail(`rank ${comm.rank} opened the store with ${JSON.stringify(change)}`), (error: unknown) => error)));
    for (const [rank, error] of errors.entries()) {
      t.true(error instanceof HpckvError, `rank ${rank}, ${field}`);
      const typed = error as HpckvError;
      t.is(typed.code, ErrorCodes.GROUP_FILE, `rank ${rank}, ${field}`);
      t.is(typed.details['field'], field, `rank ${rank}`);
      t.is(typed.details['failedRank'], 0, `rank ${rank}, ${field}`);
      t.regex(typed.message, new RegExp(`^mdhimInit: range server on rank 0 failed: data directory .* was created with ${field}=`));
      // The rank that met the mismatch keeps its own error as the cause; the others its copy.
      t.is((typed.cause as HpckvError).code, ErrorCodes.GROUP_FILE, `rank ${rank}, ${field}`);
    }
  }
  // The store, opened as it was made, still holds its records.
  const reads = await Promise.all(world.map(async (comm) => {
    const md = await mdhimInit(comm, store);
    const all = await mdhimBGetOp(md, undefined, 10, MDHIM_GET_FIRST);
    t.is(await mdhimClose(md), MDHIM_SUCCESS);
    return all.values.map(String);
  }));
  t.deepEqual(reads, world.map(() => ['a', 'b', 'c']));
});

test('an MDHIM job of 3 processes (as under mpirun): range servers on ranks 0 and 2, every rank walks all keys in order', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-mdhim-procs-'));
  const fixture = fileURLToPath(new URL('../../support/fixtures/mdhim-walk.js', import.meta.url));
  const results = await Promise.all([0, 1, 2].map((rank) => runRank(fixture, rank, 3, [join(dir, 'db'), join(dir, 'rendezvous'), 'tcp'])));
  for (const [rank, result] of results.entries()) t.is(result.code, 0, `rank ${rank} failed: ${result.stderr}`);
  const all = Array.from({ length: 300 }, (_, i) => String(i));
  for (const [rank, result] of results.entries()) {
    const report = JSON.parse(result.stdout.trim()) as { rank: number; server: boolean; walked: string[]; run: string[]; records: number[] };
    t.is(report.rank, rank);
    t.is(report.server, rank !== 1);
    t.deepEqual(report.walked, all);
    t.deepEqual(report.run, ['21', '22', '23', '24', '25', '26', '27', '28', '29', '30']);
    // Slices of 25 keys, round-robin over 2 servers: 6 slices (150 keys) each.
    t.deepEqual(report.records, [150, 150]);
  }
  await rm(dir, { recursive: true, force: true });
});

import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack, unpack } from 'msgpackr';
import { Client } from '../../../client/client.js';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import type { ProcedureSpec } from '../../../core/procedure-spec.js';
import { launchLocalGroup, type LocalGroup } from '../../../server/launcher.js';
import { unpackPairs } from '../../../core/regions/packed-pairs.js';
import { u64Key as k, u64Of } from '../../support/u64-keys.js';
import { seededRandom } from '../../../examples/seeded-random.js';

/**
 * Server-side procedures end to end: real server processes run filter, map and reduce next to
 * the data in their sandboxes; every result is compared with the same function run here.
 */
interface Running { group: LocalGroup; client: Client }
interface Row { id: number; energy: number; tag: string }

let dir: string;
const groups: Record<'hash' | 'range', Running> = {} as Record<'hash' | 'range', Running>;
const ROWS: Row[] = [];

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hpckv-procedures-'));
  const random = seededRandom(4242);
  for (let id = 0; id < 3000; id++) ROWS.push({ id, energy: Math.floor(random() * 10_000) - 5000, tag: `t${id % 7}` });
  const boundaries = [k(1000), k(2000)].map((b) => b.toString('base64'));
  for (const [name, options] of [['hash', {}], ['range', { partition: { scheme: 'range' as const, boundaries, epoch: 0 } }]] as const) {
    const group = await launchLocalGroup({ servers: 3, dir: join(dir, name), ...options });
    const client = await Client.open(group.groupFile);
    await client.putMany(ROWS.map((row) => [k(row.id), pack(row)] as const));
    groups[name] = { group, client };
  }
});

test.after.always(async () => {
  for (const g of Object.values(groups)) {
    await g.client.close();
    await g.group.stop();
  }
  await rm(dir, { recursive: true, force: true });
});

const lowEnergy: ProcedureSpec<'filter'> = { kind: 'filter', source: '(key, value, args) => hpckv.decodeMsgpack(value).energy < args.threshold' };
const tagOfThirds: ProcedureSpec<'map'> = {
  kind: 'map',
  source: '(key, value) => { const row = hpckv.decodeMsgpack(value); return row.id % 3 === 0 ? { value: row.tag + ":" + row.id } : undefined; }',
};
interface EnergyStats { n: number; sum: number; min: number | null }
const energyStats: ProcedureSpec<'reduce'> = {
  kind: 'reduce',
  source: `({
    init: (args) => ({ n: 0, sum: 0, min: null }),
    step: (acc, key, value, args) => {
      const row = hpckv.decodeMsgpack(value);
      acc.n += 1; acc.sum += row.energy; acc.min = acc.min === null || row.energy < acc.min ? row.energy : acc.min;
      return acc;
    },
    combine: (a, b) => ({ n: a.n + b.n, sum: a.sum + b.sum, min: a.min === null ? b.min : b.min === null ? a.min : Math.min(a.min, b.min) }),
  })`,
};

for (const name of ['hash', 'range'] as const) {
  test(`filter, map and reduce equal the same functions run here (${name} group)`, async (t) => {
    const { client } = groups[name]!;
    // Typed by kind: a filter's and a map's matches are [key, value] pairs, a reduce's the accumulator.
    const low = await (await client.execute(lowEnergy, { args: { threshold: -4900 } })).wait();
    const expectedLow = ROWS.filter((row) => row.energy < -4900);
    t.true(expectedLow.length > 0);
    t.deepEqual(low.map(([key]) => u64Of(key)), expectedLow.map((row) => row.id), 'matches in key order');
    t.deepEqual(low.map(([, value]) => unpack(value) as Row), expectedLow);

    const ranged = await (await client.execute(lowEnergy, { args: { threshold: 0 }, gte: k(900), lt: k(2100), reverse: true })).wait();
    t.deepEqual(ranged.map(([key]) => u64Of(key)), ROWS.filter((row) => row.id >= 900 && row.id < 2100 && row.energy < 0).map((row) => row.id).reverse());

    const mapped = await (await client.execute(tagOfThirds)).wait();
    t.deepEqual(mapped.map(([key, value]) => [u64Of(key), value.toString()]), ROWS.filter((row) => row.id % 3 === 0).map((row) => [row.id, `${row.tag}:${row.id}`]));

    const stats: EnergyStats = await (await client.execute<EnergyStats>(energyStats)).wait();
    t.deepEqual(stats, { n: ROWS.length, sum: ROWS.reduce((s, row) => s + row.energy, 0), min: Math.min(...ROWS.map((row) => row.energy)) });
  });

  test(`pages that stop at the scan budget continue transparently (${name} group)`, async (t) => {
    const { client } = groups[name]!;
    const paged = await (await client.execute(lowEnergy, { args: { threshold: -2000 }, scanEntriesMax: 97 })).wait() as Array<[Buffer, Buffer]>;
    t.deepEqual(paged.map(([key]) => u64Of(key)), ROWS.filter((row) => row.energy < -2000).map((row) => row.id));
    const handle = await client.execute(energyStats, { scanEntriesMax: 250, gte: k(10) });
    const rows = ROWS.filter((row) => row.id >= 10);
    t.deepEqual(await handle.wait(), { n: rows.length, sum: rows.reduce((s, row) => s + row.energy, 0), min: Math.min(...rows.map((row) => row.energy)) });
    t.deepEqual(await handle.poll(), { state: 'done', scanned: rows.length, matched: rows.length });
  });

  test(`ranges that leave servers with nothing to read give exact results (${name} group)`, async (t) => {
    const { client } = groups[name]!;
    // One key: on a hash group the other servers read an empty page.
    const one = await (await client.execute(lowEnergy, { args: { threshold: 1e9 }, gte: k(5), lt: k(6) })).wait() as Array<[Buffer, Buffer]>;
    t.deepEqual(one.map(([key]) => u64Of(key)), [5]);
    const mappedOne = await (await client.execute(tagOfThirds, { gte: k(6), lte: k(6) })).wait() as Array<[Buffer, Buffer]>;
    t.deepEqual(mappedOne.map(([key, value]) => [u64Of(key), value.toString()]), [[6, `${ROWS[6]!.tag}:6`]]);
    // Nothing anywhere.
    t.deepEqual(await (await client.execute(lowEnergy, { args: { threshold: 1e9 }, gte: k(100_000) })).wait(), []);
    t.deepEqual(await (await client.execute(tagOfThirds, { gte: k(100_000) })).wait(), []);
    t.deepEqual(await (await client.execute(energyStats, { gte: k(100_000) })).wait(), { n: 0, sum: 0, min: null });
  });

  test(`into: filter and map results are written into a client region in key order, across pages (${name} group)`, async (t) => {
    const { client } = groups[name]!;
    const expected = ROWS.filter((row) => row.energy < -3000);
    const expectedBytes = 4 + expected.reduce((sum, row) => sum + 8 + 8 + pack(row).length, 0);
    const memory = new Uint8Array(expectedBytes + 100).fill(0xee);
    const region = await client.registerRegion(memory, 'rw');
    t.teardown(() => client.deregisterRegion(region));
    const handle = await client.execute(lowEnergy, { args: { threshold: -3000 }, scanEntriesMax: 400, into: region });
    t.deepEqual(await handle.wait(), { count: expected.length, bytes: expectedBytes, resume: undefined });
    const written = unpackPairs(memory.subarray(0, expectedBytes));
    t.deepEqual(written.map(([key]) => u64Of(key)), expected.map((row) => row.id));
    t.deepEqual(written.map(([, value]) => unpack(value!) as Row), expected);
    t.is(memory[expectedBytes], 0xee, 'nothing written past the layout');

    // Reverse, a map, into a region that holds only part: the first results in order, and where to go on.
    const mappedRows = ROWS.filter((row) => row.id % 3 === 0).reverse();
    const entryBytes = (row: Row): number => 8 + 8 + `${row.tag}:${row.id}`.length;
    let room = 4;
    let fits = 0;
    while (room + entryBytes(mappedRows[fits]!) <= 2000) room += entryBytes(mappedRows[fits++]!);
    const small = new Uint8Array(2000);
    const smallRegion = await client.registerRegion(small, 'rw');
    t.teardown(() => client.deregisterRegion(smallRegion));
    const part = await (await client.execute(tagOfThirds, { reverse: true, into: smallRegion })).wait();
    t.deepEqual(part, { count: fits, bytes: room, resume: k(mappedRows[fits - 1]!.id) });
    t.deepEqual(unpackPairs(small).map(([key, value]) => [u64Of(key), value!.toString()]), mappedRows.slice(0, fits).map((row) => [row.id, `${row.tag}:${row.id}`]));
  });
}

test('into: a reduce is refused, a region too small for the first result is REGION_TOO_SMALL, and the region is free again after', async (t) => {
  const { client } = groups.hash;
  const memory = new Uint8Array(20);
  const region = await client.registerRegion(memory, 'rw');
  await t.throwsAsync(client.execute(energyStats, { into: region }), { code: ErrorCodes.BAD_REQUEST, message: /reduce/ });
  const handle = await client.execute(lowEnergy, { args: { threshold: -4900 }, into: region });
  await t.throwsAsync(handle.wait(), { code: ErrorCodes.REGION_TOO_SMALL });
  // Nothing holds the region any more: it can be deregistered.
  t.notThrows(() => client.deregisterRegion(region));
  const none = new Uint8Array(16);
  const noneRegion = await client.registerRegion(none, 'rw');
  t.deepEqual(await (await client.execute(lowEnergy, { args: { threshold: -1e9 }, into: noneRegion })).wait(), { count: 0, bytes: 4, resume: undefined });
  t.deepEqual(Array.from(none.subarray(0, 4)), [0, 0, 0, 0]);
  client.deregisterRegion(noneRegion);
});

test('execute returns before the job is done; poll reports it running; cancel stops it', async (t) => {
  const { client } = groups.hash;
  // About 2 ms of CPU per entry: a batch of a thousand entries takes seconds.
  const slow: ProcedureSpec = { kind: 'filter', source: '(key, value) => { let x = 0; for (let i = 0; i < 3e6; i++) x += i; return x < 0; }' };
  const handle = await client.execute(slow);
  const progress = await handle.poll();
  t.true(progress.state === 'running' || progress.state === 'queued', progress.state);
  await handle.cancel();
  const error = await t.throwsAsync(handle.wait(), { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.ABORTED);
  t.is((await handle.poll()).state, 'cancelled');
});

test('an infinite loop fails with its typed error while another client is served; syntax errors are typed at execute', async (t) => {
  const { client, group } = groups.range;
  const forever: ProcedureSpec = { kind: 'filter', source: '() => { for (;;) {} }' };
  const handle = await client.execute(forever, { lt: k(500) });
  const other = await Client.open(group.groupFile);
  // Served while the loop runs on the same server (its key 5 is below the first boundary).
  t.deepEqual(unpack((await other.get(k(5)))!), ROWS[5]);
  const error = await t.throwsAsync(handle.wait(), { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.PROCEDURE_TIMEOUT);
  t.deepEqual(unpack((await other.get(k(6)))!), ROWS[6]);
  await other.close();
  const syntax = await t.throwsAsync(client.execute({ kind: 'filter', source: '(key) => {' }), { instanceOf: HpckvError });
  t.is(syntax?.code, ErrorCodes.PROCEDURE_SYNTAX);
  await t.throwsAsync(client.execute({ kind: 'sort', source: 'x' } as unknown as ProcedureSpec), { instanceOf: HpckvError });
});

// Serial: a memory bomb ends the sandbox process it runs in; jobs of other tests there would run again (correct, but slower).
test.serial('a memory bomb, deep recursion and a huge output each fail with a typed error while another client is served', async (t) => {
  const { client, group } = groups.range;
  const other = await Client.open(group.groupFile);
  const cases: Array<[string, ProcedureSpec, string[]]> = [
    ['2 GB allocation', { kind: 'filter', source: '() => { const a = new Array(2 ** 28).fill(1.5); return a.length > 0; }' }, [ErrorCodes.PROCEDURE_MEMORY]],
    ['deep recursion', { kind: 'filter', source: '() => { const f = (n) => f(n + 1) + 1; return f(0) > 0; }' }, [ErrorCodes.PROCEDURE_FAILED]],
    ['huge output', { kind: 'map', source: '() => ({ value: "x".repeat(2 ** 27) })' }, [ErrorCodes.PROCEDURE_MEMORY]],
  ];
  for (const [what, spec, codes] of cases) {
    const handle = await client.execute(spec, { lt: k(300) });
    t.deepEqual(unpack((await other.get(k(7)))!), ROWS[7], `${what}: another client is served`);
    const error = await t.throwsAsync(handle.wait(), { instanceOf: HpckvError }, what);
    t.true(codes.includes(error?.code ?? ''), `${what}: ${error?.code} ${error?.message}`);
  }
  // The servers go on: a procedure after all of them runs normally.
  const low = await (await client.execute(lowEnergy, { args: { threshold: -4900 }, lt: k(300) })).wait() as Array<[Buffer, Buffer]>;
  t.deepEqual(low.map(([key]) => u64Of(key)), ROWS.filter((row) => row.id < 300 && row.energy < -4900).map((row) => row.id));
  await other.close();
});

// Serial and with a client of its own: it drops that client's connections mid-job.
test.serial('a job outlives its client connection: the handle reconnects and still gets every result', async (t) => {
  const client = await Client.open(groups.hash.group.groupFile);
  // Slow enough that the connections drop while the jobs run (about 0.2 ms of CPU per entry).
  const slowLow: ProcedureSpec = { kind: 'filter', source: '(key, value, args) => { let x = 0; for (let i = 0; i < 2e5; i++) x += i; return hpckv.decodeMsgpack(value).energy < args.threshold; }' };
  const handle = await client.execute(slowLow, { args: { threshold: -4000 } });
  // Drop every connection of this client (as a network fault would), while the jobs run.
  const connections = (client as unknown as { connections: { open: Array<{ channel: { destroy(): void } } | undefined> } }).connections;
  for (const connection of connections.open) connection?.channel.destroy();
  const matches = await handle.wait() as Array<[Buffer, Buffer]>;
  t.deepEqual(matches.map(([key]) => u64Of(key)), ROWS.filter((row) => row.energy < -4000).map((row) => row.id));
  await client.close();
});

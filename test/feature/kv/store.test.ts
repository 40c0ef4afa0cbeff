import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../../client/client.js';
import { ErrorCodes, HpckvError, type ErrorCode } from '../../../core/errors.js';
import { launchLocalGroup, type LocalGroup } from '../../../server/launcher.js';

/** One real group of 3 server processes (Unix sockets) for every test in this file. */
let dir: string;
let group: LocalGroup;
let client: Client;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hpckv-store-'));
  group = await launchLocalGroup({ servers: 3, dir, databases: ['default', 'states', 'log', 'spread', 'stats'] });
  client = await Client.open(group.groupFile);
});

test.after.always(async () => {
  await client?.close();
  await group?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('put, get, exists, length and del round-trip exact bytes', async (t) => {
  const value = Buffer.from([0, 1, 2, 255, 254]);
  await client.put('alpha', value);
  t.deepEqual(await client.get('alpha'), value);
  t.true(await client.exists('alpha'));
  t.is(await client.length('alpha'), 5);
  await client.put(Buffer.from([0xff, 0x00]), 'binary key');
  t.is((await client.get(Buffer.from([0xff, 0x00])))?.toString(), 'binary key');
  await client.del('alpha');
  t.is(await client.get('alpha'), undefined);
  t.false(await client.exists('alpha'));
  t.is(await client.length('alpha'), undefined);
  await t.notThrowsAsync(client.del('never-stored'));
});

test('keys spread over every server and each key lives on exactly one', async (t) => {
  const keys = Array.from({ length: 300 }, (_, i) => `spread-${i}`);
  await client.putMany(keys.map((k) => [k, k] as const), { db: 'spread' });
  const stats = await client.stat({ db: 'spread' });
  const perServer = stats.map((s) => s.databases['spread']!.records);
  t.is(perServer.reduce((a, b) => a + b, 0), 300);
  for (const count of perServer) t.true(count > 0, `every server owns some keys: ${perServer.join(',')}`);
  const expected = [0, 0, 0];
  for (const key of keys) expected[client.serverFor(key)]!++;
  t.deepEqual(perServer, expected);
});

test('a batch spanning all servers applies every put and delete, results in caller order', async (t) => {
  const keys = Array.from({ length: 60 }, (_, i) => `batch-${i}`);
  await client.putMany(keys.map((k) => [k, `old-${k}`] as const));
  const servers = new Set(keys.map((k) => client.serverFor(k)));
  t.is(servers.size, 3);
  await client.batch([
    ...keys.slice(0, 40).map((k) => ({ type: 'put' as const, key: k, value: `new-${k}` })),
    ...keys.slice(40).map((k) => ({ type: 'del' as const, key: k })),
  ]);
  const values = await client.getMany([...keys].reverse());
  t.deepEqual(values.map((v) => v?.toString()), [...keys].reverse().map((k, i) => (keys.length - 1 - i < 40 ? `new-${k}` : undefined)));
  t.deepEqual(await client.existsMany(['batch-0', 'batch-59', 'batch-39']), [true, false, true]);
  await client.delMany(keys);
  t.deepEqual((await client.getMany(keys)).filter((v) => v !== undefined), []);
});

test('write-once put refuses an existing key and keeps the first value', async (t) => {
  await client.putIfAbsent('state-A', 'first', { db: 'states' });
  const error = await t.throwsAsync(client.putIfAbsent('state-A', 'second', { db: 'states' }), { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.KEY_EXISTS);
  t.false(error?.retryable);
  t.is((await client.get('state-A', { db: 'states' }))?.toString(), 'first');
  // Concurrent write-once puts of one key from one client: exactly one wins.
  const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => client.putIfAbsent('state-B', `w${i}`, { db: 'states' })));
  t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
  t.is(results.filter((r) => r.status === 'rejected' && (r.reason as HpckvError).code === ErrorCodes.KEY_EXISTS).length, 19);
  const winner = results.findIndex((r) => r.status === 'fulfilled');
  t.is((await client.get('state-B', { db: 'states' }))?.toString(), `w${winner}`);
});

test('append mode concatenates in arrival order and creates missing keys', async (t) => {
  t.is(await client.append('events', 'a', { db: 'log' }), 1);
  t.is(await client.append('events', 'bc', { db: 'log' }), 3);
  const lengths = await Promise.all(Array.from({ length: 10 }, (_, i) => client.append('events', String(i), { db: 'log' })));
  t.deepEqual(lengths, [4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  t.is((await client.get('events', { db: 'log' }))?.toString(), 'abc0123456789');
});

test('stats count records and bytes exactly through overwrites and deletes', async (t) => {
  const db = 'stats';
  const before = await client.stat({ db });
  const sum = (stats: typeof before, field: 'records' | 'keyBytes' | 'valueBytes'): number =>
    stats.reduce((total, s) => total + s.databases[db]![field], 0);
  await client.put('s1', '12345', { db });
  await client.put('s1', '12', { db });
  await client.put('s2', 'xyz', { db });
  await client.del('s2', { db });
  await client.del('s3', { db });
  const after = await client.stat({ db });
  t.is(sum(after, 'records') - sum(before, 'records'), 1);
  t.is(sum(after, 'keyBytes') - sum(before, 'keyBytes'), 2);
  t.is(sum(after, 'valueBytes') - sum(before, 'valueBytes'), 2);
});

test('pipelined single operations from one client all land', async (t) => {
  const n = 2000;
  await Promise.all(Array.from({ length: n }, (_, i) => client.put(`pipe-${i}`, `v${i}`)));
  const values = await Promise.all(Array.from({ length: n }, (_, i) => client.get(`pipe-${i}`)));
  t.deepEqual(values.map((v) => v?.toString()), Array.from({ length: n }, (_, i) => `v${i}`));
});

test('timeouts and AbortSignal surface as typed errors', async (t) => {
  const controller = new AbortController();
  controller.abort();
  const aborted = await t.throwsAsync(client.get('x', { signal: controller.signal }), { instanceOf: HpckvError });
  t.is(aborted?.code, ErrorCodes.ABORTED);
});

test('a second client sees the first one\'s writes', async (t) => {
  await client.put('shared', 'from-one');
  const other = await Client.open(group.groupFile);
  t.is((await other.get('shared'))?.toString(), 'from-one');
  await other.close();
});

test('the server refuses malformed packed bulk bodies with typed errors and writes nothing', async (t) => {
  const { RpcClient } = await import('../../../core/rpc/rpc-client.js');
  const { packList } = await import('../../../core/wire/packed-list.js');
  const raw = await RpcClient.connect(group.group.servers[0]!.address, client.limits);
  const keys = packList([Buffer.from('packed-a'), Buffer.from('packed-b')]);
  const cases: Array<[unknown, ErrorCode]> = [
    [{ db: 'default', packedKeys: keys, packedValues: packList([Buffer.from('1')]) }, ErrorCodes.BAD_REQUEST],
    [{ db: 'default', packedKeys: keys.subarray(0, 9), packedValues: packList([Buffer.from('1'), Buffer.from('2')]) }, ErrorCodes.BAD_REQUEST],
    [{ db: 'default', packedKeys: 'nope', packedValues: keys }, ErrorCodes.BAD_REQUEST],
    [{ db: 'default', packedKeys: keys, packedValues: packList([Buffer.from('1'), null]) }, ErrorCodes.BAD_REQUEST],
  ];
  for (const [body, code] of cases) {
    const error = await t.throwsAsync(raw.call('putMany', body), { instanceOf: HpckvError });
    t.is(error?.code, code);
  }
  t.deepEqual(await raw.call('getMany', { db: 'default', packedKeys: keys }), packList([null, null]));
  raw.close();
});

test('sync writes (fsync before the acknowledgement) are applied like any other', async (t) => {
  await client.put('sync-1', 'a', { sync: true });
  await client.putMany([['sync-2', 'b'], ['sync-3', 'c']], { sync: true });
  await client.batch([{ type: 'del', key: 'sync-3' }], { sync: true });
  t.deepEqual((await client.getMany(['sync-1', 'sync-2', 'sync-3'])).map((v) => v?.toString()), ['a', 'b', undefined]);
});

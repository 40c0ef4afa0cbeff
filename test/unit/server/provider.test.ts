import test, { type ExecutionContext } from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, HpckvError, type ErrorCode } from '../../../core/errors.js';
import { resolveLimits } from '../../../core/limits.js';
import type { DatabaseStats, OpReply, OpRequest } from '../../../core/protocol/messages.js';
import { Provider, type ProviderOp } from '../../../server/provider.js';
import { scanDirectory } from '../../support/scan-directory.js';
import { seededUint32 } from '../../../examples/seeded-random.js';

const DATABASES = ['default', 'other'];

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-provider-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function openProvider(t: ExecutionContext, dataDir: string): Promise<Provider> {
  const provider = await Provider.open({ dataDir, databases: DATABASES, limits: resolveLimits(), rank: 3, service: 'svc', epoch: 7 });
  // Registered after tempDir's teardown, so it runs first (ava runs teardowns in reverse).
  t.teardown(() => provider.close());
  return provider;
}

async function setup(t: ExecutionContext): Promise<Provider> {
  return openProvider(t, await tempDir(t));
}

/** A typed call; awaiting also works for the ops that answer with plain values. */
async function call<O extends ProviderOp>(provider: Provider, op: O, body: OpRequest<O>): Promise<OpReply<O>> {
  return await (provider.handle(op, body) as OpReply<O> | Promise<OpReply<O>>);
}

function stats(provider: Provider, db = 'default'): DatabaseStats {
  const reply = provider.handle('stat', { db }) as OpReply<'stat'>;
  return reply.databases[db]!;
}

async function rejectsWith(t: ExecutionContext, promise: unknown, code: ErrorCode): Promise<void> {
  const error = await t.throwsAsync(Promise.resolve(promise), { instanceOf: HpckvError });
  t.is(error?.code, code);
}

const b = (text: string): Buffer => Buffer.from(text);

test('hello answers the identity the provider was opened with', async (t) => {
  const provider = await setup(t);
  t.deepEqual(provider.handle('hello', {}), { rank: 3, service: 'svc', epoch: 7, databases: ['default', 'other'] });
});

test('put, get, exists, length and del give exact results', async (t) => {
  const provider = await setup(t);
  t.is(await call(provider, 'put', { db: 'default', key: b('k'), value: b('hello') }), null);
  t.deepEqual(await call(provider, 'get', { db: 'default', key: b('k') }), b('hello'));
  t.is(await call(provider, 'get', { db: 'default', key: b('missing') }), null);
  t.true(await call(provider, 'exists', { db: 'default', key: b('k') }));
  t.false(await call(provider, 'exists', { db: 'default', key: b('missing') }));
  t.is(await call(provider, 'length', { db: 'default', key: b('k') }), 5);
  t.is(await call(provider, 'length', { db: 'default', key: b('missing') }), null);

  t.is(await call(provider, 'del', { db: 'default', key: b('k') }), null);
  t.is(await call(provider, 'del', { db: 'default', key: b('k') }), null, 'deleting a missing key is not an error');
  t.is(await call(provider, 'get', { db: 'default', key: b('k') }), null);
});

test('reads answer with plain values, not promises, so the rpc layer can reply in the same turn', async (t) => {
  const provider = await setup(t);
  await call(provider, 'put', { db: 'default', key: b('k'), value: b('v') });
  for (const [op, body] of [
    ['hello', {}], ['get', { db: 'default', key: b('k') }], ['exists', { db: 'default', key: b('k') }],
    ['length', { db: 'default', key: b('k') }], ['getMany', { db: 'default', keys: [b('k')] }],
    ['existsMany', { db: 'default', keys: [b('k')] }], ['stat', {}],
  ] as const) {
    t.false(provider.handle(op, body) instanceof Promise, op);
  }
});

test('empty values and binary keys round-trip; plain Uint8Arrays are accepted', async (t) => {
  const provider = await setup(t);
  const key = new Uint8Array([0, 255, 0, 1]);
  await call(provider, 'put', { db: 'default', key, value: new Uint8Array(0) });
  t.deepEqual(await call(provider, 'get', { db: 'default', key }), Buffer.alloc(0));
  t.is(await call(provider, 'length', { db: 'default', key }), 0);
  t.true(await call(provider, 'exists', { db: 'default', key }));
});

test('databases are separate stores', async (t) => {
  const provider = await setup(t);
  await call(provider, 'put', { db: 'default', key: b('k'), value: b('1') });
  t.is(await call(provider, 'get', { db: 'other', key: b('k') }), null);
  await call(provider, 'put', { db: 'other', key: b('k'), value: b('22') });
  t.deepEqual(await call(provider, 'get', { db: 'default', key: b('k') }), b('1'));
  t.deepEqual(stats(provider, 'other'), { records: 1, keyBytes: 1, valueBytes: 2 });
});

test('putMany, getMany (request order, null for missing), existsMany and delMany', async (t) => {
  const provider = await setup(t);
  t.is(await call(provider, 'putMany', { db: 'default', keys: [b('a'), b('b'), b('c')], values: [b('1'), b('22'), b('333')] }), null);
  t.deepEqual(await call(provider, 'getMany', { db: 'default', keys: [b('c'), b('x'), b('a'), b('a')] }),
    [b('333'), null, b('1'), b('1')]);
  t.deepEqual(await call(provider, 'existsMany', { db: 'default', keys: [b('x'), b('b')] }), [false, true]);
  t.is(await call(provider, 'delMany', { db: 'default', keys: [b('a'), b('x'), b('c')] }), null);
  t.deepEqual(await call(provider, 'getMany', { db: 'default', keys: [b('a'), b('b'), b('c')] }), [null, b('22'), null]);
  t.deepEqual(await call(provider, 'getMany', { db: 'default', keys: [] }), []);
  t.is(await call(provider, 'putMany', { db: 'default', keys: [], values: [] }), null);
});

test('putMany naming a key twice keeps the last value', async (t) => {
  const provider = await setup(t);
  await call(provider, 'putMany', { db: 'default', keys: [b('k'), b('j'), b('k')], values: [b('first'), b('j'), b('2nd')] });
  t.deepEqual(await call(provider, 'get', { db: 'default', key: b('k') }), b('2nd'));
  t.deepEqual(stats(provider), { records: 2, keyBytes: 2, valueBytes: 4 });
});

test('batch applies mixed puts and deletes in order', async (t) => {
  const provider = await setup(t);
  await call(provider, 'put', { db: 'default', key: b('gone'), value: b('x') });
  await call(provider, 'batch', {
    db: 'default',
    ops: [[0, b('a'), b('1')], [1, b('gone')], [0, b('b'), b('2')], [1, b('b')], [1, b('c')], [0, b('c'), b('3')]],
  });
  t.deepEqual(await call(provider, 'getMany', { db: 'default', keys: [b('a'), b('b'), b('c'), b('gone')] }),
    [b('1'), null, b('3'), null]);
  t.deepEqual(stats(provider), { records: 2, keyBytes: 2, valueBytes: 2 });
});

test('putIfAbsent writes once and then answers KEY_EXISTS, keeping the first value', async (t) => {
  const provider = await setup(t);
  t.is(await call(provider, 'putIfAbsent', { db: 'default', key: b('k'), value: b('first') }), null);
  await rejectsWith(t, provider.handle('putIfAbsent', { db: 'default', key: b('k'), value: b('second') }), ErrorCodes.KEY_EXISTS);
  t.deepEqual(await call(provider, 'get', { db: 'default', key: b('k') }), b('first'));
  t.deepEqual(stats(provider), { records: 1, keyBytes: 1, valueBytes: 5 });
  await call(provider, 'del', { db: 'default', key: b('k') });
  t.is(await call(provider, 'putIfAbsent', { db: 'default', key: b('k'), value: b('third') }), null);
  t.deepEqual(await call(provider, 'get', { db: 'default', key: b('k') }), b('third'));
});

test('append creates the key, concatenates and answers the new length', async (t) => {
  const provider = await setup(t);
  t.is(await call(provider, 'append', { db: 'default', key: b('log'), value: b('ab') }), 2);
  t.is(await call(provider, 'append', { db: 'default', key: b('log'), value: b('cde') }), 5);
  t.is(await call(provider, 'append', { db: 'default', key: b('log'), value: b('') }), 5);
  t.deepEqual(await call(provider, 'get', { db: 'default', key: b('log') }), b('abcde'));
  t.deepEqual(stats(provider), { records: 1, keyBytes: 3, valueBytes: 5 });
});

test('writes with sync: true are applied like any other', async (t) => {
  const provider = await setup(t);
  await call(provider, 'put', { db: 'default', key: b('k'), value: b('v'), sync: true });
  await call(provider, 'putMany', { db: 'default', keys: [b('m')], values: [b('w')], sync: true });
  await call(provider, 'batch', { db: 'default', ops: [[1, b('k')]], sync: true });
  await call(provider, 'del', { db: 'default', key: b('m'), sync: false });
  t.deepEqual(stats(provider), { records: 0, keyBytes: 0, valueBytes: 0 });
});

test('stats stay exact through overwrites, deletes of missing keys, batches and appends', async (t) => {
  const provider = await setup(t);
  const expect = (records: number, keyBytes: number, valueBytes: number, what: string): void => {
    t.deepEqual(stats(provider), { records, keyBytes, valueBytes }, what);
  };
  expect(0, 0, 0, 'empty');
  await call(provider, 'put', { db: 'default', key: b('key1'), value: b('abc') });
  expect(1, 4, 3, 'put');
  await call(provider, 'put', { db: 'default', key: b('key1'), value: b('abcdefghij') });
  expect(1, 4, 10, 'overwrite with a longer value');
  await call(provider, 'put', { db: 'default', key: b('key1'), value: b('a') });
  expect(1, 4, 1, 'overwrite with a shorter value');
  await call(provider, 'del', { db: 'default', key: b('nope') });
  expect(1, 4, 1, 'delete of a missing key');
  await call(provider, 'batch', { db: 'default', ops: [[0, b('k2'), b('12345')], [0, b('k2'), b('1234567')]] });
  expect(2, 6, 8, 'batch putting one key twice');
  await call(provider, 'batch', { db: 'default', ops: [[0, b('k3'), b('x')], [1, b('k3')]] });
  expect(2, 6, 8, 'batch putting then deleting a new key');
  await call(provider, 'batch', { db: 'default', ops: [[1, b('k2')], [0, b('k2'), b('xyz')], [1, b('k2')], [1, b('k2')]] });
  expect(1, 4, 1, 'batch deleting, re-putting and deleting twice');
  await call(provider, 'append', { db: 'default', key: b('key1'), value: b('bc') });
  expect(1, 4, 3, 'append to a stored key');
  await call(provider, 'append', { db: 'default', key: b('new'), value: b('1234') });
  expect(2, 7, 7, 'append creating a key');
  await call(provider, 'putMany', { db: 'default', keys: [b('new'), b('m1'), b('m1')], values: [b(''), b('12'), b('1')] });
  expect(3, 9, 4, 'putMany overwriting, and naming a new key twice');
  await call(provider, 'delMany', { db: 'default', keys: [b('m1'), b('m1'), b('zz')] });
  expect(2, 7, 3, 'delMany naming a key twice and a missing key');
  await rejectsWith(t, provider.handle('putIfAbsent', { db: 'default', key: b('new'), value: b('123') }), ErrorCodes.KEY_EXISTS);
  expect(2, 7, 3, 'refused putIfAbsent');
});

test('stats after close and reopen come back from the summary the close wrote and match', async (t) => {
  const dir = await tempDir(t);
  const first = await openProvider(t, dir);
  await call(first, 'putMany', { db: 'default', keys: [b('a'), b('bb'), b('ccc')], values: [b('1'), b('22'), b('')] });
  await call(first, 'put', { db: 'default', key: b('bb'), value: b('2222') });
  await call(first, 'append', { db: 'default', key: b('a'), value: b('11') });
  await call(first, 'del', { db: 'default', key: b('ccc') });
  await call(first, 'put', { db: 'other', key: b('o'), value: b('oo') });
  const before = first.handle('stat', {}) as OpReply<'stat'>;
  t.deepEqual(before.databases, {
    default: { records: 2, keyBytes: 3, valueBytes: 7 },
    other: { records: 1, keyBytes: 1, valueBytes: 2 },
  });
  await first.close();

  const second = await openProvider(t, dir);
  t.deepEqual((second.handle('stat', {}) as OpReply<'stat'>).databases, before.databases);
  t.deepEqual(await call(second, 'get', { db: 'default', key: b('a') }), b('111'));
});

test('stats match a raw scan after a pseudo-random mix of concurrent writes', async (t) => {
  const dir = await tempDir(t);
  const provider = await openProvider(t, dir);
  const nextUint32 = seededUint32(12345);
  const random = (n: number): number => nextUint32() % n;
  const key = (): Buffer => b('key' + random(40));
  const value = (): Buffer => Buffer.alloc(random(50), 7);
  const pending: unknown[] = [];
  for (let i = 0; i < 400; i++) {
    switch (random(7)) {
      case 0: pending.push(provider.handle('put', { db: 'default', key: key(), value: value() })); break;
      case 1: pending.push(provider.handle('del', { db: 'default', key: key() })); break;
      case 2: pending.push(provider.handle('putMany', { db: 'default', keys: [key(), key(), key()], values: [value(), value(), value()] })); break;
      case 3: pending.push(provider.handle('delMany', { db: 'default', keys: [key(), key()] })); break;
      case 4: pending.push(provider.handle('batch', { db: 'default', ops: [[0, key(), value()], [1, key()], [0, key(), value()]] })); break;
      case 5: pending.push(provider.handle('append', { db: 'default', key: key(), value: value() })); break;
      default: pending.push(Promise.resolve(provider.handle('putIfAbsent', { db: 'default', key: key(), value: value() })).catch(() => null));
    }
  }
  await Promise.all(pending);
  const inMemory = stats(provider);
  t.true(inMemory.records > 0);
  await provider.close();
  t.deepEqual(await scanDirectory(join(dir, 'default')), inMemory);
});

test('stat reports one database or all, with rank, uptime and request count', async (t) => {
  const provider = await setup(t);
  await call(provider, 'put', { db: 'other', key: b('k'), value: b('v') });
  const one = provider.handle('stat', { db: 'other' }) as OpReply<'stat'>;
  t.deepEqual(Object.keys(one.databases), ['other']);
  t.is(one.rank, 3);
  t.is(one.requests, 2);
  t.true(Number.isInteger(one.uptimeMs) && one.uptimeMs >= 0);
  const all = provider.handle('stat', {}) as OpReply<'stat'>;
  t.deepEqual(Object.keys(all.databases).sort(), ['default', 'other']);
  t.is(all.requests, 3);
  t.is(provider.requests, 3);
  t.deepEqual((provider.handle('stat', { db: null }) as OpReply<'stat'>).databases, all.databases, 'db: null means all');
});

test('close lets accepted writes finish, then every request is SHUTTING_DOWN', async (t) => {
  const dir = await tempDir(t);
  const provider = await openProvider(t, dir);
  const write = provider.handle('putMany', { db: 'default', keys: [b('a'), b('b')], values: [b('1'), b('2')] });
  const closed = provider.close();
  t.is(provider.close(), closed, 'close is idempotent');
  t.is(await write, null);
  await closed;
  for (const [op, body] of [['get', { db: 'default', key: b('a') }], ['hello', {}], ['put', { db: 'default', key: b('a'), value: b('') }]] as const) {
    const error = t.throws(() => provider.handle(op, body), { instanceOf: HpckvError });
    t.is(error?.code, ErrorCodes.SHUTTING_DOWN);
    t.true(error?.retryable);
  }
  const reopened = await openProvider(t, dir);
  t.deepEqual(await call(reopened, 'getMany', { db: 'default', keys: [b('a'), b('b')] }), [b('1'), b('2')]);
});

test('open refuses bad or repeated database names and a store locked by another provider', async (t) => {
  const dir = await tempDir(t);
  const open = (databases: string[]): Promise<Provider> =>
    Provider.open({ dataDir: dir, databases, limits: resolveLimits(), rank: 0, service: 's', epoch: 1 });
  await rejectsWith(t, open(['../escape']), ErrorCodes.BAD_CONFIG);
  await rejectsWith(t, open(['a', 'a']), ErrorCodes.BAD_CONFIG);
  const holder = await open(['a']);
  t.teardown(() => holder.close());
  await rejectsWith(t, open(['b', 'a']), ErrorCodes.STORE);
});

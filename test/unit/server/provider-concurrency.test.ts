import test, { type ExecutionContext } from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import { resolveLimits } from '../../../core/limits.js';
import type { DatabaseStats, OpReply } from '../../../core/protocol/messages.js';
import { Provider } from '../../../server/provider.js';

async function setup(t: ExecutionContext): Promise<Provider> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hpckv-provider-concurrency-'));
  const provider = await Provider.open({ dataDir, databases: ['default'], limits: resolveLimits(), rank: 0, service: 's', epoch: 1 });
  t.teardown(async () => {
    await provider.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  return provider;
}

function stats(provider: Provider): DatabaseStats {
  return (provider.handle('stat', {}) as OpReply<'stat'>).databases['default']!;
}

const key = Buffer.from('contended');

test('50 concurrent putIfAbsent on one key: exactly one wins (the first to arrive), 49 get KEY_EXISTS', async (t) => {
  const provider = await setup(t);
  const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) =>
    provider.handle('putIfAbsent', { db: 'default', key, value: Buffer.from(`value-${i}`) })));
  const won = results.filter((r) => r.status === 'fulfilled');
  const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  t.is(won.length, 1);
  t.is(lost.length, 49);
  t.true(lost.every((r) => r.reason instanceof HpckvError && r.reason.code === ErrorCodes.KEY_EXISTS));
  t.is(results[0]!.status, 'fulfilled');
  t.deepEqual(provider.handle('get', { db: 'default', key }), Buffer.from('value-0'));
  t.deepEqual(stats(provider), { records: 1, keyBytes: key.length, valueBytes: 7 });
});

test('100 concurrent appends on one key all land, in arrival order', async (t) => {
  const provider = await setup(t);
  const lengths = await Promise.all(Array.from({ length: 100 }, (_, i) =>
    provider.handle('append', { db: 'default', key, value: Buffer.from([i, i]) })));
  t.deepEqual(lengths, Array.from({ length: 100 }, (_, i) => 2 * (i + 1)));
  const expected = Buffer.from(Array.from({ length: 100 }, (_, i) => [i, i]).flat());
  t.deepEqual(provider.handle('get', { db: 'default', key }), expected);
  t.deepEqual(stats(provider), { records: 1, keyBytes: key.length, valueBytes: 200 });
});

test('pipelined writes to one key apply in arrival order, and stats count the key once', async (t) => {
  const provider = await setup(t);
  const writes: unknown[] = [];
  for (let i = 0; i < 30; i++) {
    const value = Buffer.alloc(i + 1, i);
    if (i % 3 === 0) writes.push(provider.handle('put', { db: 'default', key, value }));
    else if (i % 3 === 1) writes.push(provider.handle('putMany', { db: 'default', keys: [Buffer.from('other'), key], values: [value, value] }));
    else writes.push(provider.handle('batch', { db: 'default', ops: [[1, key], [0, key, value]] }));
  }
  await Promise.all(writes);
  t.deepEqual(provider.handle('get', { db: 'default', key }), Buffer.alloc(30, 29));
  t.deepEqual(stats(provider), { records: 2, keyBytes: key.length + 5, valueBytes: 30 + 29 });
});

test('a delete racing puts and appends leaves stats matching the store', async (t) => {
  const provider = await setup(t);
  const writes: unknown[] = [];
  for (let i = 0; i < 40; i++) {
    writes.push(provider.handle(i % 2 === 0 ? 'append' : 'put', { db: 'default', key, value: Buffer.alloc(3) }));
    if (i % 5 === 4) writes.push(provider.handle('del', { db: 'default', key }));
  }
  await Promise.all(writes);
  const length = provider.handle('length', { db: 'default', key }) as number | null;
  t.deepEqual(stats(provider), length === null
    ? { records: 0, keyBytes: 0, valueBytes: 0 }
    : { records: 1, keyBytes: key.length, valueBytes: length });
});

test('writes sharing keys in opposite orders do not deadlock', async (t) => {
  const provider = await setup(t);
  const a = Buffer.from('a');
  const b = Buffer.from('b');
  const writes = [];
  for (let i = 0; i < 20; i++) {
    writes.push(provider.handle('putMany', { db: 'default', keys: [a, b], values: [Buffer.from([i]), Buffer.from([i])] }));
    writes.push(provider.handle('putMany', { db: 'default', keys: [b, a], values: [Buffer.from([i, i]), Buffer.from([i, i])] }));
  }
  await Promise.all(writes);
  t.deepEqual(provider.handle('getMany', { db: 'default', keys: [a, b] }), [Buffer.from([19, 19]), Buffer.from([19, 19])]);
  t.deepEqual(stats(provider), { records: 2, keyBytes: 2, valueBytes: 4 });
});

import test, { type ExecutionContext } from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, HpckvError, type ErrorCode, type ErrorDetails } from '../../../core/errors.js';
import { resolveLimits } from '../../../core/limits.js';
import type { OpReply } from '../../../core/protocol/messages.js';
import { Provider } from '../../../server/provider.js';

/** Small limits, so every limit can be crossed with a few bytes. */
const LIMITS = resolveLimits({ keyBytesMax: 8, valueBytesMax: 16, batchEntriesMax: 4 });

async function setup(t: ExecutionContext): Promise<Provider> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hpckv-provider-validation-'));
  const provider = await Provider.open({ dataDir, databases: ['default'], limits: LIMITS, rank: 0, service: 's', epoch: 1 });
  t.teardown(async () => {
    await provider.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  // One stored record, so "nothing was written" can be checked against known stats.
  await provider.handle('put', { db: 'default', key: Buffer.from('seed'), value: Buffer.from('value') });
  return provider;
}

/** Validation failures are thrown synchronously, before the request reaches a store. */
function refuses(t: ExecutionContext, provider: Provider, op: string, body: unknown, code: ErrorCode,
  details?: ErrorDetails): void {
  const error = t.throws(() => provider.handle(op, body), { instanceOf: HpckvError }, `${op} ${code}`);
  t.is(error?.code, code, `${op}: ${error?.message}`);
  if (details !== undefined) t.like(error?.details, details);
}

function unchanged(t: ExecutionContext, provider: Provider): void {
  const reply = provider.handle('stat', {}) as OpReply<'stat'>;
  t.deepEqual(reply.databases['default'], { records: 1, keyBytes: 4, valueBytes: 5 });
  const seed = provider.handle('get', { db: 'default', key: Buffer.from('seed') });
  t.deepEqual(seed, Buffer.from('value'));
}

const k = Buffer.from('key');
const v = Buffer.from('val');

test('unknown operations, and shutdown (the server process handles it), are UNKNOWN_OP', async (t) => {
  const provider = await setup(t);
  for (const op of ['nope', 'shutdown', '__proto__', 'constructor', 'toString', '']) {
    refuses(t, provider, op, { db: 'default' }, ErrorCodes.UNKNOWN_OP);
  }
  unchanged(t, provider);
});

test('a body that is not a map is BAD_REQUEST', async (t) => {
  const provider = await setup(t);
  for (const body of [null, undefined, 5, 'text', [k], Buffer.from('x'), new Map([['db', 'default']])]) {
    refuses(t, provider, 'put', body, ErrorCodes.BAD_REQUEST);
    refuses(t, provider, 'hello', body, ErrorCodes.BAD_REQUEST);
  }
  unchanged(t, provider);
});

test('db must be a string naming a database this server owns', async (t) => {
  const provider = await setup(t);
  refuses(t, provider, 'get', { key: k }, ErrorCodes.BAD_REQUEST, { field: 'db' });
  refuses(t, provider, 'get', { db: 7, key: k }, ErrorCodes.BAD_REQUEST, { field: 'db' });
  refuses(t, provider, 'put', { db: 'missing', key: k, value: v }, ErrorCodes.UNKNOWN_DATABASE, { db: 'missing' });
  refuses(t, provider, 'putMany', { db: '../default', keys: [k], values: [v] }, ErrorCodes.UNKNOWN_DATABASE);
  refuses(t, provider, 'stat', { db: 'missing' }, ErrorCodes.UNKNOWN_DATABASE);
  unchanged(t, provider);
});

test('keys must be non-empty bytes no longer than keyBytesMax', async (t) => {
  const provider = await setup(t);
  for (const key of [undefined, 'key', 5, [1, 2], null]) {
    refuses(t, provider, 'put', { db: 'default', key, value: v }, ErrorCodes.BAD_REQUEST, { field: 'key' });
  }
  refuses(t, provider, 'put', { db: 'default', key: Buffer.alloc(0), value: v }, ErrorCodes.BAD_REQUEST, { field: 'key', bytes: 0 });
  refuses(t, provider, 'get', { db: 'default', key: Buffer.alloc(9) }, ErrorCodes.KEY_TOO_LARGE,
    { field: 'key', limit: 'keyBytesMax', bytes: 9, max: 8 });
  refuses(t, provider, 'putIfAbsent', { db: 'default', key: Buffer.alloc(9), value: v }, ErrorCodes.KEY_TOO_LARGE);
  refuses(t, provider, 'del', { db: 'default', key: Buffer.alloc(9) }, ErrorCodes.KEY_TOO_LARGE);
  t.is(await provider.handle('put', { db: 'default', key: Buffer.alloc(8, 1), value: v }), null, 'keyBytesMax itself is allowed');
  await provider.handle('del', { db: 'default', key: Buffer.alloc(8, 1) });
  unchanged(t, provider);
});

test('values must be bytes no longer than valueBytesMax', async (t) => {
  const provider = await setup(t);
  refuses(t, provider, 'put', { db: 'default', key: k }, ErrorCodes.BAD_REQUEST, { field: 'value' });
  refuses(t, provider, 'put', { db: 'default', key: k, value: 'text' }, ErrorCodes.BAD_REQUEST, { field: 'value' });
  refuses(t, provider, 'put', { db: 'default', key: k, value: Buffer.alloc(17) }, ErrorCodes.VALUE_TOO_LARGE,
    { field: 'value', limit: 'valueBytesMax', bytes: 17, max: 16 });
  refuses(t, provider, 'append', { db: 'default', key: k, value: Buffer.alloc(17) }, ErrorCodes.VALUE_TOO_LARGE);
  unchanged(t, provider);
});

test('an append that would grow a value past valueBytesMax is refused and changes nothing', async (t) => {
  const provider = await setup(t);
  const error = await t.throwsAsync(Promise.resolve(provider.handle('append', { db: 'default', key: Buffer.from('seed'), value: Buffer.alloc(12) })),
    { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.VALUE_TOO_LARGE);
  t.like(error?.details, { limit: 'valueBytesMax', bytes: 17, max: 16 });
  unchanged(t, provider);
  t.is(await provider.handle('append', { db: 'default', key: Buffer.from('seed'), value: Buffer.alloc(11) }), 16);
});

test('sync must be a boolean when present', async (t) => {
  const provider = await setup(t);
  refuses(t, provider, 'put', { db: 'default', key: k, value: v, sync: 'yes' }, ErrorCodes.BAD_REQUEST, { field: 'sync' });
  refuses(t, provider, 'delMany', { db: 'default', keys: [k], sync: 1 }, ErrorCodes.BAD_REQUEST, { field: 'sync' });
  refuses(t, provider, 'batch', { db: 'default', ops: [[1, k]], sync: null }, ErrorCodes.BAD_REQUEST, { field: 'sync' });
  unchanged(t, provider);
});

test('bulk requests: arrays, at most batchEntriesMax entries, keys and values of equal length', async (t) => {
  const provider = await setup(t);
  const five = [1, 2, 3, 4, 5].map((i) => Buffer.from([i]));
  refuses(t, provider, 'putMany', { db: 'default', keys: five, values: five }, ErrorCodes.BATCH_TOO_LARGE,
    { field: 'keys', limit: 'batchEntriesMax', entries: 5, max: 4 });
  refuses(t, provider, 'getMany', { db: 'default', keys: five }, ErrorCodes.BATCH_TOO_LARGE);
  refuses(t, provider, 'existsMany', { db: 'default', keys: five }, ErrorCodes.BATCH_TOO_LARGE);
  refuses(t, provider, 'delMany', { db: 'default', keys: five }, ErrorCodes.BATCH_TOO_LARGE);
  refuses(t, provider, 'batch', { db: 'default', ops: five.map((key) => [1, key]) }, ErrorCodes.BATCH_TOO_LARGE, { field: 'ops' });
  refuses(t, provider, 'putMany', { db: 'default', keys: [k, k], values: [v] }, ErrorCodes.BAD_REQUEST, { field: 'values', keys: 2, values: 1 });
  refuses(t, provider, 'putMany', { db: 'default', keys: k, values: [v] }, ErrorCodes.BAD_REQUEST, { field: 'keys' });
  refuses(t, provider, 'getMany', { db: 'default' }, ErrorCodes.BAD_REQUEST, { field: 'keys' });
  unchanged(t, provider);
});

test('one bad entry fails the whole bulk request, with its index, and nothing is written', async (t) => {
  const provider = await setup(t);
  const keys = [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')];
  refuses(t, provider, 'putMany', { db: 'default', keys, values: [v, v, Buffer.alloc(17)] }, ErrorCodes.VALUE_TOO_LARGE,
    { field: 'values', index: 2, bytes: 17, max: 16 });
  refuses(t, provider, 'putMany', { db: 'default', keys: [keys[0], Buffer.alloc(9), keys[2]], values: [v, v, v] },
    ErrorCodes.KEY_TOO_LARGE, { field: 'keys', index: 1 });
  refuses(t, provider, 'putMany', { db: 'default', keys: [keys[0], 'b'], values: [v, v] }, ErrorCodes.BAD_REQUEST, { index: 1 });
  refuses(t, provider, 'delMany', { db: 'default', keys: [Buffer.from('seed'), Buffer.alloc(0)] }, ErrorCodes.BAD_REQUEST, { index: 1 });
  refuses(t, provider, 'getMany', { db: 'default', keys: [k, Buffer.alloc(9)] }, ErrorCodes.KEY_TOO_LARGE, { index: 1 });
  t.deepEqual(provider.handle('existsMany', { db: 'default', keys }), [false, false, false]);
  unchanged(t, provider);
});

test('batch entries must be [0, key, value] or [1, key]', async (t) => {
  const provider = await setup(t);
  const good = [0, Buffer.from('a'), v];
  for (const bad of [[2, k], [0, k], [1, k, v], [0, k, v, v], 'put', null, [], { 0: 1, 1: k }, ['put', k, v]]) {
    refuses(t, provider, 'batch', { db: 'default', ops: [good, [1, Buffer.from('seed')], bad] }, ErrorCodes.BAD_REQUEST,
      { field: 'ops', index: 2 });
  }
  refuses(t, provider, 'batch', { db: 'default', ops: [good, [0, Buffer.alloc(9), v]] }, ErrorCodes.KEY_TOO_LARGE, { index: 1 });
  refuses(t, provider, 'batch', { db: 'default', ops: [[1, Buffer.from('seed')], [0, k, Buffer.alloc(17)]] },
    ErrorCodes.VALUE_TOO_LARGE, { index: 1 });
  refuses(t, provider, 'batch', { db: 'default', ops: [[1, Buffer.from('seed')], [1, 'k']] }, ErrorCodes.BAD_REQUEST, { index: 1 });
  unchanged(t, provider);
  t.false(provider.handle('exists', { db: 'default', key: Buffer.from('a') }) as boolean);
});

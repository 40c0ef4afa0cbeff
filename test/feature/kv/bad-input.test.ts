import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../../client/client.js';
import { ErrorCodes, HpckvError, type ErrorCode, type ErrorDetails, type WireError } from '../../../core/errors.js';
import { resolveLimits, type Limits } from '../../../core/limits.js';
import type { DatabaseStats, StatReply } from '../../../core/protocol/messages.js';
import { RpcClient } from '../../../core/rpc/rpc-client.js';
import { FrameDecoder, encodeFrame } from '../../../core/wire/frame-codec.js';
import { launchLocalGroup, type LocalGroup } from '../../../server/launcher.js';
import { RawConnection, frameOf, prefixOf } from '../../support/raw-connection.js';

/**
 * Hostile and malformed input against one real group of 2 server processes over loopback TCP:
 * through the Client (its own checks), through a raw RpcClient with looser limits than the
 * servers' (so only the servers' checks stand in the way), and as raw bytes on a plain socket.
 * After every case a well-behaved Client, connected throughout, must still read its sentinels.
 *
 * Tests are serial: several compare server statistics before and after a refused request.
 */

const SERVER_LIMITS: Partial<Limits> = {
  keyBytesMax: 64,
  valueBytesMax: 1024,
  batchEntriesMax: 10,
  frameBytesMax: 64 * 1024,
};
const KEY_MAX = 64;
const VALUE_MAX = 1024;
const BATCH_MAX = 10;
const FRAME_MAX = 64 * 1024;

/** Looser than the servers' limits, so a request the servers must refuse still leaves this side. */
const RAW_LIMITS = resolveLimits({ keyBytesMax: 1024, valueBytesMax: 8 * 1024, batchEntriesMax: 100, frameBytesMax: FRAME_MAX });

const DB = 'default';
const TEST_TIMEOUT_MS = 60_000;

let dir: string;
let group: LocalGroup;
let client: Client;
/** One raw rpc connection per server rank. */
let raw: RpcClient[] = [];
/** One sentinel key per server rank, written once and read back after every hostile case. */
const sentinels: Array<{ key: string; value: Buffer }> = [];

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hpckv-bad-input-'));
  group = await launchLocalGroup({ servers: 2, dir, transport: 'tcp', limits: SERVER_LIMITS, databases: [DB] });
  client = await Client.open(group.groupFile);
  raw = await Promise.all(group.group.servers.map((server) => RpcClient.connect(server.address, RAW_LIMITS)));
  for (let rank = 0; rank < group.group.servers.length; rank++) {
    const key = keyOwnedBy(rank, 'sentinel');
    const value = Buffer.from([0, 1, 2, 0xfe, 0xff, ...Buffer.from(`sentinel of rank ${rank}`)]);
    await client.put(key, value);
    sentinels.push({ key, value });
  }
});

test.after.always(async () => {
  for (const connection of raw) connection.close();
  await client?.close();
  await group?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** The first key `${prefix}-${i}` the group's partitioner places on `rank`. */
function keyOwnedBy(rank: number, prefix: string): string {
  for (let i = 0; ; i++) {
    const key = `${prefix}-${i}`;
    if (client.serverFor(key) === rank) return key;
  }
}

/** `count` distinct keys, all owned by `rank`. */
function keysOwnedBy(rank: number, prefix: string, count: number): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) {
    const key = `${prefix}-${i}`;
    if (client.serverFor(key) === rank) keys.push(key);
  }
  return keys;
}

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

/** The well-behaved client still reads every sentinel back exactly: the servers keep serving. */
async function stillServing(t: ExecutionContext): Promise<void> {
  for (const { key, value } of sentinels) t.deepEqual(await client.get(key), value, `sentinel ${key}`);
}

async function refuses(t: ExecutionContext, promise: Promise<unknown>, code: ErrorCode, details?: ErrorDetails,
  what = ''): Promise<HpckvError | undefined> {
  const error = await t.throwsAsync(promise, { instanceOf: HpckvError }, `${what}: expected ${code}`);
  t.is(error?.code, code, `${what}: ${error?.message}`);
  if (details !== undefined) t.like(error?.details, details, what);
  return error;
}

async function statsOf(): Promise<Array<DatabaseStats | undefined>> {
  return (await client.stat({ db: DB })).map((reply) => reply.databases[DB]);
}

// ---------------------------------------------------------------------------------------------
// Through the Client: its own checks, before any byte is sent.
// ---------------------------------------------------------------------------------------------

test.serial('client: oversized key, empty key, oversized value and oversized bulk calls fail before a round trip', async (t) => {
  t.timeout(TEST_TIMEOUT_MS);
  const before = await client.stat();
  const longKey = 'k'.repeat(KEY_MAX + 1);
  const keyDetails = { limit: 'keyBytesMax', bytes: KEY_MAX + 1, max: KEY_MAX };
  await refuses(t, client.put(longKey, 'v'), ErrorCodes.KEY_TOO_LARGE, keyDetails, 'put long key');
  await refuses(t, client.get(longKey), ErrorCodes.KEY_TOO_LARGE, keyDetails, 'get long key');
  await refuses(t, client.del(longKey), ErrorCodes.KEY_TOO_LARGE, keyDetails, 'del long key');
  await refuses(t, client.exists(longKey), ErrorCodes.KEY_TOO_LARGE, keyDetails, 'exists long key');
  await refuses(t, client.putIfAbsent(longKey, 'v'), ErrorCodes.KEY_TOO_LARGE, keyDetails, 'putIfAbsent long key');
  // Bytes count, not characters: 22 euro signs are 66 UTF-8 bytes.
  await refuses(t, client.put('€'.repeat(22), 'v'), ErrorCodes.KEY_TOO_LARGE,
    { limit: 'keyBytesMax', bytes: 66, max: KEY_MAX }, 'multi-byte key');
  t.throws(() => client.serverFor(longKey), { instanceOf: HpckvError });

  await refuses(t, client.put('', 'v'), ErrorCodes.BAD_REQUEST, undefined, 'put empty key');
  await refuses(t, client.get(new Uint8Array(0)), ErrorCodes.BAD_REQUEST, undefined, 'get empty key');

  const valueDetails = { limit: 'valueBytesMax', bytes: VALUE_MAX + 1, max: VALUE_MAX };
  await refuses(t, client.put('fine-key', Buffer.alloc(VALUE_MAX + 1)), ErrorCodes.VALUE_TOO_LARGE, valueDetails, 'put long value');
  await refuses(t, client.putIfAbsent('fine-key', Buffer.alloc(VALUE_MAX + 1)), ErrorCodes.VALUE_TOO_LARGE, valueDetails, 'putIfAbsent long value');
  await refuses(t, client.append('fine-key', Buffer.alloc(VALUE_MAX + 1)), ErrorCodes.VALUE_TOO_LARGE, valueDetails, 'append long value');
  await refuses(t, client.putMany([['a', 'v'], ['fine-key', Buffer.alloc(VALUE_MAX + 1)]]), ErrorCodes.VALUE_TOO_LARGE,
    valueDetails, 'putMany long value');
  await refuses(t, client.batch([{ type: 'put', key: 'a', value: 'v' }, { type: 'put', key: 'b', value: Buffer.alloc(VALUE_MAX + 1) }]),
    ErrorCodes.VALUE_TOO_LARGE, valueDetails, 'batch long value');

  const many = Array.from({ length: BATCH_MAX + 1 }, (_, i) => `many-${i}`);
  const batchDetails = { limit: 'batchEntriesMax', entries: BATCH_MAX + 1, max: BATCH_MAX };
  await refuses(t, client.batch(many.map((key) => ({ type: 'put' as const, key, value: 'v' }))), ErrorCodes.BATCH_TOO_LARGE, batchDetails, 'batch');
  await refuses(t, client.putMany(many.map((key) => [key, 'v'] as const)), ErrorCodes.BATCH_TOO_LARGE, batchDetails, 'putMany');
  await refuses(t, client.getMany(many), ErrorCodes.BATCH_TOO_LARGE, batchDetails, 'getMany');
  await refuses(t, client.existsMany(many), ErrorCodes.BATCH_TOO_LARGE, batchDetails, 'existsMany');
  await refuses(t, client.delMany(many), ErrorCodes.BATCH_TOO_LARGE, batchDetails, 'delMany');

  // None of the above reached a server: each counted only this stat request since the last one.
  const after = await client.stat();
  for (let rank = 0; rank < before.length; rank++) {
    t.is(after[rank]!.requests, before[rank]!.requests + 1, `rank ${rank} saw no refused request`);
    t.deepEqual(after[rank]!.databases, before[rank]!.databases);
  }
  t.deepEqual(await client.getMany(many.slice(0, BATCH_MAX)), new Array(BATCH_MAX).fill(undefined));
  await stillServing(t);
});

test.serial('client: a key and value at exactly the limits round-trip', async (t) => {
  t.timeout(TEST_TIMEOUT_MS);
  const key = Buffer.alloc(KEY_MAX, 0x61);
  const value = randomBytes(VALUE_MAX);
  await client.put(key, value);
  t.deepEqual(await client.get(key), value);
  const entries = Array.from({ length: BATCH_MAX }, (_, i) => [`edge-${i}`, `v${i}`] as const);
  await client.putMany(entries);
  t.deepEqual((await client.getMany(entries.map(([k]) => k))).map((v) => v?.toString()), entries.map(([, v]) => v));
  await client.delMany(entries.map(([k]) => k));
  await client.del(key);
  t.is(await client.get(key), undefined);
  await stillServing(t);
});

test.serial('client: an unknown database is refused by the server with UNKNOWN_DATABASE', async (t) => {
  t.timeout(TEST_TIMEOUT_MS);
  for (const db of ['nope', '../default', '', 'a'.repeat(200)]) {
    const echoed = db.slice(0, 100);
    await refuses(t, client.get('k', { db }), ErrorCodes.UNKNOWN_DATABASE, { db: echoed }, `get db ${JSON.stringify(db)}`);
    await refuses(t, client.put('k', 'v', { db }), ErrorCodes.UNKNOWN_DATABASE, { db: echoed }, `put db ${JSON.stringify(db)}`);
  }
  await refuses(t, client.getMany(['a', 'b', 'c', 'd'], { db: 'nope' }), ErrorCodes.UNKNOWN_DATABASE, { db: 'nope' }, 'getMany');
  await refuses(t, client.stat({ db: 'nope' }), ErrorCodes.UNKNOWN_DATABASE, { db: 'nope' }, 'stat');
  t.is(await client.get('k'), undefined);
  await stillServing(t);
});

test.serial('client: wrong JS types are TypeErrors', async (t) => {
  t.timeout(TEST_TIMEOUT_MS);
  const anyKey = (value: unknown): string => value as string;
  await t.throwsAsync(client.put(anyKey(42), 'v'), { instanceOf: TypeError });
  await t.throwsAsync(client.get(anyKey(42)), { instanceOf: TypeError });
  await t.throwsAsync(client.get(anyKey(null)), { instanceOf: TypeError });
  await t.throwsAsync(client.get(anyKey(undefined)), { instanceOf: TypeError });
  await t.throwsAsync(client.get(anyKey({ key: 'k' })), { instanceOf: TypeError });
  await t.throwsAsync(client.put('k', anyKey(42)), { instanceOf: TypeError });
  await t.throwsAsync(client.put('k', anyKey(null)), { instanceOf: TypeError });
  await t.throwsAsync(client.getMany([anyKey(1), 'b']), { instanceOf: TypeError });
  await t.throwsAsync(client.putMany([['a', anyKey(1)]]), { instanceOf: TypeError });
  await t.throwsAsync(client.batch([{ type: anyKey('upsert') as 'put', key: 'a', value: 'v' }]), { instanceOf: TypeError });
  t.throws(() => client.serverFor(anyKey(7)), { instanceOf: TypeError });
  t.is(await client.get('k'), undefined);
  await stillServing(t);
});

test.serial('client: putIfAbsent on a stored key is KEY_EXISTS and leaves the value intact', async (t) => {
  t.timeout(TEST_TIMEOUT_MS);
  await client.putIfAbsent('write-once', 'first');
  await refuses(t, client.putIfAbsent('write-once', 'second'), ErrorCodes.KEY_EXISTS, undefined, 'putIfAbsent');
  t.is((await client.get('write-once'))?.toString(), 'first');
  // An append that would grow the value past valueBytesMax is refused and changes nothing.
  await client.put('grows', Buffer.alloc(VALUE_MAX - 10, 1));
  await refuses(t, client.append('grows', Buffer.alloc(11, 2)), ErrorCodes.VALUE_TOO_LARGE, undefined, 'append past the limit');
  t.deepEqual(await client.get('grows'), Buffer.alloc(VALUE_MAX - 10, 1));
  t.is(await client.append('grows', Buffer.alloc(10, 2)), VALUE_MAX);
  await client.delMany(['write-once', 'grows']);
  await stillServing(t);
});

// ---------------------------------------------------------------------------------------------
// A raw RpcClient with looser limits: the servers' own validation is all that stands in the way.
// ---------------------------------------------------------------------------------------------

/** Sends a request to server `rank` through its raw connection (no client-side checks). */
function rawCall(rank: number, op: string, body: unknown): Promise<unknown> {
  return raw[rank]!.call(op, body);
}

test.serial('server: oversized keys, values and batches are refused and nothing is written', async (t) => {
  t.timeout(TEST_TIMEOUT_MS);
  const before = await statsOf();
  for (let rank = 0; rank < raw.length; rank++) {
    const longKey = Buffer.alloc(KEY_MAX + 1, 0x6b);
    const keyDetails = { field: 'key', limit: 'keyBytesMax', bytes: KEY_MAX + 1, max: KEY_MAX };
    await refuses(t, rawCall(rank, 'put', { db: DB, key: longKey, value: bytes('v') }), ErrorCodes.KEY_TOO_LARGE, keyDetails, 'put long key');
    await refuses(t, rawCall(rank, 'putIfAbsent', { db: DB, key: longKey, value: bytes('v') }), ErrorCodes.KEY_TOO_LARGE, keyDetails, 'putIfAbsent long key');
    await refuses(t, rawCall(rank, 'append', { db: DB, key: longKey, value: bytes('v') }), ErrorCodes.KEY_TOO_LARGE, keyDetails, 'append long key');
    await refuses(t, rawCall(rank, 'get', { db: DB, key: longKey }), ErrorCodes.KEY_TOO_LARGE, keyDetails, 'get long key');
    await refuses(t, rawCall(rank, 'del', { db: DB, key: longKey }), ErrorCodes.KEY_TOO_LARGE, keyDetails, 'del long key');
    await refuses(t, rawCall(rank, 'put', { db: DB, key: Buffer.alloc(1000, 0x6b), value: bytes('v') }), ErrorCodes.KEY_TOO_LARGE,
      { limit: 'keyBytesMax', bytes: 1000 }, 'put 1000-byte key');

    const key = keyOwnedBy(rank, 'raw-value');
    const valueDetails = { field: 'value', limit: 'valueBytesMax', bytes: VALUE_MAX + 1, max: VALUE_MAX };
    await refuses(t, rawCall(rank, 'put', { db: DB, key: bytes(key), value: Buffer.alloc(VALUE_MAX + 1) }), ErrorCodes.VALUE_TOO_LARGE, valueDetails, 'put long value');
    await refuses(t, rawCall(rank, 'putIfAbsent', { db: DB, key: bytes(key), value: Buffer.alloc(VALUE_MAX + 1) }), ErrorCodes.VALUE_TOO_LARGE, valueDetails, 'putIfAbsent long value');
    await refuses(t, rawCall(rank, 'append', { db: DB, key: bytes(key), value: Buffer.alloc(VALUE_MAX + 1) }), ErrorCodes.VALUE_TOO_LARGE, valueDetails, 'append long value');
    await refuses(t, rawCall(rank, 'put', { db: DB, key: bytes(key), value: Buffer.alloc(8000) }), ErrorCodes.VALUE_TOO_LARGE,
      { limit: 'valueBytesMax', bytes: 8000 }, 'put 8000-byte value');
    t.is(await client.get(key), undefined, 'refused value not written');

    const keys = keysOwnedBy(rank, 'raw-batch', BATCH_MAX + 1);
    const batchDetails = { limit: 'batchEntriesMax', entries: BATCH_MAX + 1, max: BATCH_MAX };
    await refuses(t, rawCall(rank, 'batch', { db: DB, ops: keys.map((k) => [0, bytes(k), bytes('v')]) }), ErrorCodes.BATCH_TOO_LARGE,
      { ...batchDetails, field: 'ops' }, 'batch too large');
    await refuses(t, rawCall(rank, 'putMany', { db: DB, keys: keys.map(bytes), values: keys.map(() => bytes('v')) }), ErrorCodes.BATCH_TOO_LARGE,
      { ...batchDetails, field: 'keys' }, 'putMany too large');
    await refuses(t, rawCall(rank, 'putMany', { db: DB, keys: keys.slice(0, 2).map(bytes), values: keys.map(() => bytes('v')) }),
      ErrorCodes.BATCH_TOO_LARGE, { ...batchDetails, field: 'values' }, 'putMany too many values');
    await refuses(t, rawCall(rank, 'getMany', { db: DB, keys: keys.map(bytes) }), ErrorCodes.BATCH_TOO_LARGE, { ...batchDetails, field: 'keys' }, 'getMany too large');
    await refuses(t, rawCall(rank, 'existsMany', { db: DB, keys: keys.map(bytes) }), ErrorCodes.BATCH_TOO_LARGE, { ...batchDetails, field: 'keys' }, 'existsMany too large');
    await refuses(t, rawCall(rank, 'delMany', { db: DB, keys: keys.map(bytes) }), ErrorCodes.BATCH_TOO_LARGE, { ...batchDetails, field: 'keys' }, 'delMany too large');

    // A batch within the entry limit with one bad entry is refused whole: nothing of it is applied.
    const ten = keys.slice(0, BATCH_MAX);
    const ops: unknown[] = ten.map((k) => [0, bytes(k), bytes('v')]);
    ops[5] = [0, bytes(ten[5]!), Buffer.alloc(VALUE_MAX + 1)];
    await refuses(t, rawCall(rank, 'batch', { db: DB, ops }), ErrorCodes.VALUE_TOO_LARGE,
      { field: 'ops value', limit: 'valueBytesMax', index: 5 }, 'batch with one long value');
    ops[5] = [1, Buffer.alloc(KEY_MAX + 1)];
    await refuses(t, rawCall(rank, 'batch', { db: DB, ops }), ErrorCodes.KEY_TOO_LARGE,
      { field: 'ops key', limit: 'keyBytesMax', index: 5 }, 'batch with one long key');
    const values = ten.map(() => bytes('v'));
    values[9] = Buffer.alloc(VALUE_MAX + 1);
    await refuses(t, rawCall(rank, 'putMany', { db: DB, keys: ten.map(bytes), values }), ErrorCodes.VALUE_TOO_LARGE,
      { field: 'values', limit: 'valueBytesMax', index: 9 }, 'putMany with one long value');
    t.deepEqual(await client.getMany(keys.slice(0, BATCH_MAX)), new Array(BATCH_MAX).fill(undefined), 'refused batches not written');
    t.is(await client.get(keys[BATCH_MAX]!), undefined);
    await stillServing(t);
  }
  t.deepEqual(await statsOf(), before, 'no record, key byte or value byte was added anywhere');
  for (const connection of raw) t.false(connection.isClosed, 'refused requests leave the connection open');
});

test.serial('server: unknown operations are UNKNOWN_OP', async (t) => {
  t.timeout(TEST_TIMEOUT_MS);
  for (let rank = 0; rank < raw.length; rank++) {
    for (const op of ['nope', '', 'GET', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'x'.repeat(500)]) {
      await refuses(t, rawCall(rank, op, { db: DB, key: bytes('k') }), ErrorCodes.UNKNOWN_OP, { op: op.slice(0, 100) }, `op ${op.slice(0, 20)}`);
    }
    await stillServing(t);
  }
});

test.serial('server: unknown or invalid database names are UNKNOWN_DATABASE, non-strings BAD_REQUEST', async (t) => {
  t.timeout(TEST_TIMEOUT_MS);
  for (let rank = 0; rank < raw.length; rank++) {
    const key = bytes(keyOwnedBy(rank, 'raw-db'));
    for (const db of ['nope', '../default', 'default/../default', '', '__proto__', 'constructor', 'x'.repeat(300)]) {
      await refuses(t, rawCall(rank, 'put', { db, key, value: bytes('v') }), ErrorCodes.UNKNOWN_DATABASE, { db: db.slice(0, 100) }, `put db ${db.slice(0, 20)}`);
      await refuses(t, rawCall(rank, 'get', { db, key }), ErrorCodes.UNKNOWN_DATABASE, { db: db.slice(0, 100) }, `get db ${db.slice(0, 20)}`);
    }
    await refuses(t, rawCall(rank, 'stat', { db: 'nope' }), ErrorCodes.UNKNOWN_DATABASE, { db: 'nope' }, 'stat db nope');
    for (const db of [5, null, true, bytes('default'), ['default'], { name: 'default' }]) {
      await refuses(t, rawCall(rank, 'get', { db, key }), ErrorCodes.BAD_REQUEST, { field: 'db' }, `db ${String(db)}`);
    }
    await refuses(t, rawCall(rank, 'get', { key }), ErrorCodes.BAD_REQUEST, { field: 'db', got: 'undefined' }, 'db missing');
    await refuses(t, rawCall(rank, 'stat', { db: 5 }), ErrorCodes.BAD_REQUEST, { field: 'db', got: 'number' }, 'stat db 5');
    t.is(await client.get(key), undefined);
    await stillServing(t);
  }
});

test.serial('server: wrong field types and shapes are BAD_REQUEST and write nothing', async (t) => {
  t.timeout(TEST_TIMEOUT_MS);
  const before = await statsOf();
  for (let rank = 0; rank < raw.length; rank++) {
    const k = bytes(keyOwnedBy(rank, 'raw-shape'));
    const k2 = bytes(keyOwnedBy(rank, 'raw-shape-two'));
    const v = bytes('value');
    const cases: Array<[string, string, unknown, ErrorDetails]> = [
      ['key as string', 'put', { db: DB, key: 'text-key', value: v }, { field: 'key', got: 'string' }],
      ['key as number', 'put', { db: DB, key: 42, value: v }, { field: 'key', got: 'number' }],
      ['key as array', 'get', { db: DB, key: [1, 2, 3] }, { field: 'key', got: 'array' }],
      ['key as map', 'get', { db: DB, key: { 0: 1 } }, { field: 'key', got: 'object' }],
      ['key missing', 'get', { db: DB }, { field: 'key', got: 'undefined' }],
      ['key null', 'del', { db: DB, key: null }, { field: 'key', got: 'null' }],
      ['key empty', 'put', { db: DB, key: Buffer.alloc(0), value: v }, { field: 'key', bytes: 0 }],
      ['value as string', 'put', { db: DB, key: k, value: 'text' }, { field: 'value', got: 'string' }],
      ['value as number', 'putIfAbsent', { db: DB, key: k, value: 7 }, { field: 'value', got: 'number' }],
      ['value missing', 'append', { db: DB, key: k }, { field: 'value', got: 'undefined' }],
      ['keys not an array', 'getMany', { db: DB, keys: k }, { field: 'keys', got: 'bytes' }],
      ['keys as map', 'existsMany', { db: DB, keys: { 0: k } }, { field: 'keys', got: 'object' }],
      ['keys with a string', 'delMany', { db: DB, keys: [k, 'text'] }, { field: 'keys', got: 'string', index: 1 }],
      ['keys with an empty key', 'getMany', { db: DB, keys: [k, Buffer.alloc(0)] }, { field: 'keys', bytes: 0, index: 1 }],
      ['values not an array', 'putMany', { db: DB, keys: [k], values: v }, { field: 'values', got: 'bytes' }],
      ['values missing', 'putMany', { db: DB, keys: [k] }, { field: 'values', got: 'undefined' }],
      ['keys/values length mismatch', 'putMany', { db: DB, keys: [k, k2], values: [v] }, { field: 'values', keys: 2, values: 1 }],
      ['values/keys length mismatch', 'putMany', { db: DB, keys: [k], values: [v, v] }, { field: 'values', keys: 1, values: 2 }],
      ['values with null', 'putMany', { db: DB, keys: [k, k2], values: [v, null] }, { field: 'values', got: 'null', index: 1 }],
      ['ops not an array', 'batch', { db: DB, ops: { 0: [0, k, v] } }, { field: 'ops', got: 'object' }],
      ['ops missing', 'batch', { db: DB }, { field: 'ops', got: 'undefined' }],
      ['batch entry unknown opcode', 'batch', { db: DB, ops: [[0, k, v], [2, k2, v]] }, { field: 'ops', index: 1 }],
      ['batch put without value', 'batch', { db: DB, ops: [[0, k2, v], [0, k]] }, { field: 'ops', index: 1 }],
      ['batch del with value', 'batch', { db: DB, ops: [[0, k2, v], [1, k, v]] }, { field: 'ops', index: 1 }],
      ['batch entry not an array', 'batch', { db: DB, ops: [[0, k2, v], 'put'] }, { field: 'ops', index: 1 }],
      ['batch entry as map', 'batch', { db: DB, ops: [{ type: 'put', key: k, value: v }] }, { field: 'ops', index: 0 }],
      ['batch opcode as string', 'batch', { db: DB, ops: [['put', k, v]] }, { field: 'ops', index: 0 }],
      ['batch key as string', 'batch', { db: DB, ops: [[0, k2, v], [0, 'text', v]] }, { field: 'ops key', got: 'string', index: 1 }],
      ['batch value as number', 'batch', { db: DB, ops: [[0, k2, v], [0, k, 5]] }, { field: 'ops value', got: 'number', index: 1 }],
      ['sync as string', 'put', { db: DB, key: k, value: v, sync: 'yes' }, { field: 'sync', got: 'string' }],
      ['sync as number', 'del', { db: DB, key: k, sync: 1 }, { field: 'sync', got: 'number' }],
      ['sync as null', 'putMany', { db: DB, keys: [k], values: [v], sync: null }, { field: 'sync', got: 'null' }],
      ['sync on a batch', 'batch', { db: DB, ops: [[0, k, v]], sync: 'true' }, { field: 'sync', got: 'string' }],
      ['sync on delMany', 'delMany', { db: DB, keys: [k], sync: 0 }, { field: 'sync', got: 'number' }],
    ];
    for (const [what, op, body, details] of cases) {
      await refuses(t, rawCall(rank, op, body), ErrorCodes.BAD_REQUEST, details, `${what} (${op})`);
    }
    const notMaps: Array<[string, unknown]> = [
      ['string', 'put'], ['number', 5], ['array', [DB, k, v]], ['bytes', k], ['boolean', true], ['null', null], ['undefined', undefined],
    ];
    for (const op of ['hello', 'put', 'get', 'batch', 'putMany', 'getMany', 'stat']) {
      for (const [got, body] of notMaps) {
        await refuses(t, rawCall(rank, op, body), ErrorCodes.BAD_REQUEST, { got }, `${op} body ${got}`);
      }
    }
    t.is(await client.get(keyOwnedBy(rank, 'raw-shape')), undefined, 'refused put not written');
    t.is(await client.get(keyOwnedBy(rank, 'raw-shape-two')), undefined, 'refused batch not written');
    await stillServing(t);
  }
  t.deepEqual(await statsOf(), before, 'nothing was written anywhere');
  for (const connection of raw) t.false(connection.isClosed);
});

test.serial('server: putIfAbsent on a stored key is KEY_EXISTS, the original value intact', async (t) => {
  t.timeout(TEST_TIMEOUT_MS);
  for (let rank = 0; rank < raw.length; rank++) {
    const key = keyOwnedBy(rank, 'raw-once');
    await client.put(key, 'original');
    await refuses(t, rawCall(rank, 'putIfAbsent', { db: DB, key: bytes(key), value: bytes('usurper') }), ErrorCodes.KEY_EXISTS,
      undefined, 'putIfAbsent existing');
    await refuses(t, rawCall(rank, 'putIfAbsent', { db: DB, key: bytes(key), value: bytes('usurper'), sync: true }), ErrorCodes.KEY_EXISTS,
      undefined, 'putIfAbsent existing, sync');
    t.is((await client.get(key))?.toString(), 'original');
    // The raw connection is a full client too: a valid request through it still works.
    t.deepEqual(Buffer.from(await rawCall(rank, 'get', { db: DB, key: bytes(key) }) as Uint8Array).toString(), 'original');
    await client.del(key);
    await stillServing(t);
  }
});

// ---------------------------------------------------------------------------------------------
// Raw bytes on a plain socket.
// ---------------------------------------------------------------------------------------------

type Envelope = [number, number, unknown];

/** Expects the server to say why (a failure with id 0) and then close the connection. */
async function expectRefused(t: ExecutionContext, connection: RawConnection, code: ErrorCode, what: string): Promise<WireError> {
  const message = await connection.next();
  t.true(Array.isArray(message), `${what}: reply is an envelope`);
  const [kind, id, error] = message as [number, number, WireError];
  t.is(kind, 2, `${what}: a failure`);
  t.is(id, 0, `${what}: about the connection`);
  t.is(error.code, code, `${what}: ${error.message}`);
  t.is(error.retryable, false);
  await connection.closed;
  t.true(connection.hasClosed);
  t.deepEqual(connection.unread, [], `${what}: nothing after the refusal`);
  return error;
}

/** A fresh connection to `address` still gets a proper answer to hello. */
async function helloAnswers(t: ExecutionContext, address: string, rank: number): Promise<void> {
  const connection = await RawConnection.open(address);
  await connection.send([0, 1, 'hello', {}]);
  const reply = await connection.next() as Envelope;
  t.like(reply, { 0: 1, 1: 1, 2: { rank, service: 'hpckv', epoch: 0, databases: [DB] } });
  connection.destroy();
  await connection.closed;
}

function eachServer(): Array<{ rank: number; address: string }> {
  return group.group.servers.map((server) => ({ rank: server.rank, address: server.address }));
}

test.serial('raw: random garbage gets a connection failure and a close', async (t) => {
  t.timeout(TEST_TIMEOUT_MS);
  for (const { rank, address } of eachServer()) {
    const garbage = randomBytes(256);
    // A nonzero first byte makes the first four a length far above frameBytesMax.
    garbage[0] = garbage[0]! | 0x01;
    const connection = await RawConnection.open(address);
    await connection.write(garbage);
    const error = await expectRefused(t, connection, ErrorCodes.FRAME_TOO_LARGE, 'garbage');
    t.is(error.details['frameBytes'], garbage.readUInt32BE(0));
    await helloAnswers(t, address, rank);
    await stillServing(t);
  }
});

test.serial('raw: a valid length prefix followed by bytes that are not msgpack is PROTOCOL, then close', async (t) => {
  t.timeout(TEST_TIMEOUT_MS);
  const payloads: Array<[string, Buffer]> = [
    ['empty frame', Buffer.alloc(0)],
    ['truncated array', Buffer.from([0x94, 0x00])],
    ['unknown extension', Buffer.from([0xd4, 0x33, 0x00])],
    ['trailing bytes', Buffer.concat([frameOf([0, 1, 'hello', {}]).subarray(4), Buffer.from([0xff, 0xff])])],
    ['str32 claiming 4 GiB', Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x41])],
    ['array32 claiming 2^32-1 entries', Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ['nesting deeper than the stack', Buffer.concat([Buffer.alloc(60_000, 0x91), Buffer.from([0xc0])])],
  ];
  for (const { rank, address } of eachServer()) {
    for (const [what, payload] of payloads) {
      const connection = await RawConnection.open(address);
      await connection.write(Buffer.concat([prefixOf(payload.length), payload]));
      await expectRefused(t, connection, ErrorCodes.PROTOCOL, what);
    }
    await helloAnswers(t, address, rank);
    await stillServing(t);
  }
});

test.serial('raw: a msgpack message that is not a request envelope is PROTOCOL, then close', async (t) => {
  t.timeout(TEST_TIMEOUT_MS);
  const messages: Array<[string, unknown]> = [
    ['a string', 'hello'],
    ['a number', 42],
    ['nil', null],
    ['a map', { op: 'hello', id: 1 }],
    ['[9, 1]', [9, 1]],
    ['an empty array', []],
    ['a success reply', [1, 5, null]],
    ['a failure reply', [2, 5, { code: 'HPCKV_ERR_INTERNAL', message: 'x', retryable: false, details: {} }]],
    ['request id 0', [0, 0, 'hello', {}]],
    ['negative request id', [0, -1, 'hello', {}]],
    ['fractional request id', [0, 1.5, 'hello', {}]],
    ['string request id', [0, '1', 'hello', {}]],
    ['missing request id', [0]],
  ];
  for (const { rank, address } of eachServer()) {
    for (const [what, message] of messages) {
      const connection = await RawConnection.open(address);
      await connection.send(message);
      await expectRefused(t, connection, ErrorCodes.PROTOCOL, what);
    }
    // 0xc1 is msgpack's "never used" byte; msgpackr decodes it to an object that is no envelope.
    const connection = await RawConnection.open(address);
    await connection.write(Buffer.concat([prefixOf(1), Buffer.from([0xc1])]));
    await expectRefused(t, connection, ErrorCodes.PROTOCOL, '0xc1');
    await helloAnswers(t, address, rank);
    await stillServing(t);
  }
});

test.serial('raw: a bad request in a good envelope fails that request only; the connection keeps serving', async (t) => {
  t.timeout(TEST_TIMEOUT_MS);
  for (const { rank, address } of eachServer()) {
    const connection = await RawConnection.open(address);
    const failures: Array<[string, unknown[], ErrorCode]> = [
      ['op as a number', [0, 7, 42, {}], ErrorCodes.BAD_REQUEST],
      ['op as nil', [0, 8, null, {}], ErrorCodes.BAD_REQUEST],
      ['op as bytes', [0, 9, bytes('hello'), {}], ErrorCodes.BAD_REQUEST],
      ['no body', [0, 10, 'hello'], ErrorCodes.BAD_REQUEST],
      ['extra element', [0, 11, 'hello', {}, 'extra'], ErrorCodes.BAD_REQUEST],
      ['unknown op', [0, 12, 'nope', {}], ErrorCodes.UNKNOWN_OP],
      ['body not a map', [0, 13, 'get', [DB, bytes('k')]], ErrorCodes.BAD_REQUEST],
      ['unknown db', [0, 14, 'get', { db: 'nope', key: bytes('k') }], ErrorCodes.UNKNOWN_DATABASE],
    ];
    for (const [what, message, code] of failures) {
      await connection.send(message);
      const reply = await connection.next() as [number, number, WireError];
      t.is(reply[0], 2, what);
      t.is(reply[1], message[1] as number, `${what}: the failure names the request`);
      t.is(reply[2].code, code, `${what}: ${reply[2].message}`);
    }
    await connection.send([0, 15, 'hello', {}]);
    t.like(await connection.next(), { 0: 1, 1: 15, 2: { rank, service: 'hpckv', epoch: 0, databases: [DB] } });
    // Several requests in one write: each answered, by id.
    const sentinel = sentinels[rank]!;
    t.is(client.serverFor(sentinel.key), rank);
    await connection.write(Buffer.concat([
      frameOf([0, 16, 'hello', {}]),
      frameOf([0, 17, 42, {}]),
      frameOf([0, 18, 'get', { db: DB, key: bytes(sentinel.key) }]),
    ]));
    const replies = new Map<number, Envelope>();
    for (let i = 0; i < 3; i++) {
      const reply = await connection.next() as Envelope;
      replies.set(reply[1], reply);
    }
    t.is(replies.get(16)?.[0], 1);
    t.is(replies.get(17)?.[0], 2);
    t.is((replies.get(17)?.[2] as WireError).code, ErrorCodes.BAD_REQUEST);
    t.is(replies.get(18)?.[0], 1);
    t.deepEqual(Buffer.from(replies.get(18)?.[2] as Uint8Array), sentinel.value);
    t.false(connection.hasClosed);
    t.deepEqual(connection.unread, []);
    connection.destroy();
    await connection.closed;
    await stillServing(t);
  }
});

test.serial('raw: a length prefix above frameBytesMax is FRAME_TOO_LARGE on id 0, then the server closes', async (t) => {
  t.timeout(TEST_TIMEOUT_MS);
  for (const { rank, address } of eachServer()) {
    for (const length of [FRAME_MAX + 1, 0x7fff_ffff, 0xffff_ffff]) {
      const connection = await RawConnection.open(address);
      // The prefix alone: the server must refuse before waiting for (or buffering) any payload.
      await connection.write(prefixOf(length));
      const error = await expectRefused(t, connection, ErrorCodes.FRAME_TOO_LARGE, `prefix ${length}`);
      t.is(error.details['frameBytes'], length);
    }
    // A prefix exactly at the limit is accepted and waits for its payload (which never comes).
    const atLimit = await RawConnection.open(address);
    await atLimit.write(Buffer.concat([prefixOf(FRAME_MAX), Buffer.alloc(100)]));
    await atLimit.send([0, 1, 'hello', {}]);
    atLimit.end();
    await atLimit.closed;
    t.deepEqual(atLimit.unread, [], 'the hello is only payload of the unfinished frame');
    await helloAnswers(t, address, rank);
    await stillServing(t);
  }
});

test.serial('raw: a truncated frame and then end of stream does not hurt the server', async (t) => {
  t.timeout(TEST_TIMEOUT_MS);
  for (const { rank, address } of eachServer()) {
    const truncated = await RawConnection.open(address);
    await truncated.write(Buffer.concat([prefixOf(100), randomBytes(10)]));
    truncated.end();
    await truncated.closed;
    t.deepEqual(truncated.unread, []);

    // Half a length prefix, then the end.
    const halfPrefix = await RawConnection.open(address);
    await halfPrefix.write(Buffer.from([0x00, 0x00]));
    halfPrefix.end();
    await halfPrefix.closed;
    t.deepEqual(halfPrefix.unread, []);

    // A request in flight when the client vanishes: the server answers into a closed socket.
    const vanishing = await RawConnection.open(address);
    await vanishing.write(Buffer.concat([frameOf([0, 1, 'get', { db: DB, key: bytes(sentinels[rank]!.key) }]), prefixOf(50)]));
    vanishing.destroy();
    await vanishing.closed;

    await helloAnswers(t, address, rank);
    await stillServing(t);
  }
});

test.serial('raw: a frame sent one byte at a time forms a valid request and gets its reply', async (t) => {
  t.timeout(TEST_TIMEOUT_MS);
  for (const { rank, address } of eachServer()) {
    const connection = await RawConnection.open(address);
    await connection.writeSlowly(frameOf([0, 77, 'hello', {}]));
    t.like(await connection.next(), { 0: 1, 1: 77, 2: { rank, service: 'hpckv', epoch: 0, databases: [DB] } });
    // Two frames, sliced across the prefix boundary of the second.
    const sentinel = sentinels[rank]!;
    const two = Buffer.concat([frameOf([0, 78, 'hello', {}]), frameOf([0, 79, 'get', { db: DB, key: bytes(sentinel.key) }])]);
    const cut = frameOf([0, 78, 'hello', {}]).length + 2;
    await connection.write(two.subarray(0, cut));
    t.like(await connection.next(), { 0: 1, 1: 78 });
    await connection.writeSlowly(two.subarray(cut));
    const reply = await connection.next() as Envelope;
    t.is(reply[0], 1);
    t.is(reply[1], 79);
    t.deepEqual(Buffer.from(reply[2] as Uint8Array), sentinel.value);
    connection.destroy();
    await connection.closed;
    await stillServing(t);
  }
});

/**
 * Regression (was a product bug): an incomplete frame was re-concatenated on every read, so a
 * frame arriving in n socket reads cost O(n^2) copying on the server's event loop. Checked by
 * counting the bytes Buffer.concat copies (deterministic, no timing).
 */
test.serial('raw: a large frame arriving in socket-sized reads is assembled with linear copying', (t) => {
  const payloadBytes = 4 * 1024 * 1024;
  const frame = encodeFrame(Buffer.alloc(payloadBytes, 7));
  const decoder = new FrameDecoder(payloadBytes);
  const buffer = Buffer as { concat: typeof Buffer.concat };
  const concat = buffer.concat;
  let copied = 0;
  const frames: Buffer[] = [];
  buffer.concat = (list, totalLength) => {
    const out = concat.call(Buffer, list, totalLength);
    copied += out.length;
    return out;
  };
  try {
    for (let offset = 0; offset < frame.length; offset += 64 * 1024) frames.push(...decoder.push(frame.subarray(offset, offset + 64 * 1024)));
  } finally {
    buffer.concat = concat;
  }
  t.is(frames.length, 1);
  t.true(copied <= 2 * frame.length, `copied ${copied} bytes to assemble one ${frame.length}-byte frame`);
});

// ---------------------------------------------------------------------------------------------

test.serial('finally: every server process is alive and answers stat', async (t) => {
  t.timeout(TEST_TIMEOUT_MS);
  t.is(group.processes.length, 2);
  for (const child of group.processes) {
    t.is(child.exitCode, null, `pid ${child.pid} still running`);
    t.is(child.signalCode, null);
  }
  const stats: StatReply[] = await client.stat();
  t.deepEqual(stats.map((s) => s.rank), [0, 1]);
  for (const stat of stats) {
    t.true(stat.requests > 0);
    // Only the sentinels are left: every hostile write was refused and every test cleaned up.
    t.like(stat.databases[DB], { records: 1 });
  }
  for (const connection of raw) t.false(connection.isClosed, 'the raw rpc connections survived every refusal');
  await stillServing(t);
});

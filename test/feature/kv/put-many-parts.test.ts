import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../../client/client.js';
import { ErrorCodes, type WireError } from '../../../core/errors.js';
import type { Limits } from '../../../core/limits.js';
import { packList } from '../../../core/wire/packed-list.js';
import { launchLocalGroup, type LocalGroup } from '../../../server/launcher.js';
import { RawConnection } from '../../support/raw-connection.js';

/**
 * A putMany larger than putManyPartBytesMax travels as parts the server stages as they arrive
 * and commits with the last: against real server processes over TCP, whole putManys through the
 * client and the part protocol over raw connections (what is visible between parts, bad parts,
 * parts out of order, a connection lost between parts, the stagings limit).
 */

const STAGINGS_MAX = 3;
const FRAME_BYTES_MAX = 256 * 1024;
const LIMITS: Partial<Limits> = { putManyStagingsPerConnectionMax: STAGINGS_MAX, frameBytesMax: FRAME_BYTES_MAX, valueBytesMax: 128 * 1024 };

type Envelope = [number, number, unknown];

let dir: string;
let group: LocalGroup;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hpckv-parts-'));
  group = await launchLocalGroup({ servers: 2, dir, transport: 'tcp', limits: LIMITS, databases: ['default', 'whole'] });
});

test.after.always(async () => {
  await group?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const key = (prefix: string, i: number): Buffer => Buffer.from(`${prefix}-${String(i).padStart(5, '0')}`);
const value = (i: number, bytes: number): Buffer => Buffer.alloc(bytes, i % 251);

function part(staging: number, index: number, last: boolean, keys: Buffer[], values: Buffer[]): unknown {
  return { db: 'default', staging, part: index, last, packedKeys: packList(keys), packedValues: packList(values) };
}

async function request(connection: RawConnection, id: number, op: string, body: unknown): Promise<Envelope> {
  await connection.send([0, id, op, body]);
  const reply = await connection.next() as Envelope;
  if (reply[1] !== id) throw new Error(`reply for ${reply[1]}, expected ${id}`);
  return reply;
}

const errorCode = (reply: Envelope): string => (reply[0] === 2 ? (reply[2] as WireError).code : 'ok');

test('a client putMany above putManyPartBytesMax lands whole on every server, with exact stats', async (t) => {
  const client = await Client.open(group.groupFile, { limits: { putManyPartBytesMax: 16 * 1024 } });
  t.teardown(() => client.close());
  const entries = Array.from({ length: 300 }, (_, i) => [key('whole', i), value(i, 1000)] as const);
  // Its own database, so the other tests (run concurrently) do not move its stats.
  await client.putMany(entries, { db: 'whole' });
  const got = await client.getMany(entries.map(([k]) => k), { db: 'whole' });
  t.deepEqual(got.map((v, i) => v?.equals(entries[i]![1])), entries.map(() => true));
  const stats = await client.stat({ db: 'whole' });
  t.true(stats.every((server) => server.databases['whole']!.records > 0)); // both servers took part
  t.is(stats.reduce((sum, server) => sum + server.databases['whole']!.records, 0), 300);
  t.is(stats.reduce((sum, server) => sum + server.databases['whole']!.valueBytes, 0), 300 * 1000);
});

test('the same putMany sent as one message (putManyPartBytesMax 0) lands the same', async (t) => {
  const client = await Client.open(group.groupFile, { limits: { putManyPartBytesMax: 0 } });
  t.teardown(() => client.close());
  const entries = Array.from({ length: 40 }, (_, i) => [key('single', i), value(i, 1000)] as const);
  await client.putMany(entries);
  t.deepEqual((await client.getMany(entries.map(([k]) => k))).map((v) => v?.length), entries.map(() => 1000));
});

test('nothing of a staging is readable until its last part commits it', async (t) => {
  const address = group.group.servers[0]!.address;
  const connection = await RawConnection.open(address);
  t.teardown(() => connection.destroy());
  const keys = Array.from({ length: 6 }, (_, i) => key('atomic', i));
  const values = keys.map((_, i) => value(i, 10));
  t.deepEqual(await request(connection, 1, 'putManyPart', part(7, 0, false, keys.slice(0, 3), values.slice(0, 3))), [1, 1, null]);
  t.deepEqual(await request(connection, 2, 'get', { db: 'default', key: keys[0] }), [1, 2, null]);
  t.deepEqual(await request(connection, 3, 'putManyPart', part(7, 1, true, keys.slice(3), values.slice(3))), [1, 3, null]);
  for (let i = 0; i < keys.length; i++) {
    const reply = await request(connection, 10 + i, 'get', { db: 'default', key: keys[i] });
    t.true(Buffer.from(reply[2] as Uint8Array).equals(values[i]!));
  }
});

test('a bad part discards its staging: its later parts fail and nothing of it is written', async (t) => {
  const connection = await RawConnection.open(group.group.servers[0]!.address);
  t.teardown(() => connection.destroy());
  const keys = Array.from({ length: 4 }, (_, i) => key('bad', i));
  const values = keys.map((_, i) => value(i, 10));
  t.is(errorCode(await request(connection, 1, 'putManyPart', part(1, 0, false, keys.slice(0, 2), values.slice(0, 2)))), 'ok');
  const empty = Buffer.alloc(0);
  t.is(errorCode(await request(connection, 2, 'putManyPart', part(1, 1, false, [empty], [values[2]!]))), ErrorCodes.BAD_REQUEST);
  t.is(errorCode(await request(connection, 3, 'putManyPart', part(1, 2, true, [keys[3]!], [values[3]!]))), ErrorCodes.BAD_REQUEST);
  for (let i = 0; i < keys.length; i++) t.deepEqual(await request(connection, 10 + i, 'get', { db: 'default', key: keys[i] }), [1, 10 + i, null]);
});

test('parts out of order, a first part twice, or a part of a staging never opened are refused', async (t) => {
  const connection = await RawConnection.open(group.group.servers[0]!.address);
  t.teardown(() => connection.destroy());
  const k = [key('order', 0)];
  const v = [value(0, 10)];
  t.is(errorCode(await request(connection, 1, 'putManyPart', part(2, 1, true, k, v))), ErrorCodes.BAD_REQUEST);
  t.is(errorCode(await request(connection, 2, 'putManyPart', part(3, 0, false, k, v))), 'ok');
  t.is(errorCode(await request(connection, 3, 'putManyPart', part(3, 2, true, k, v))), ErrorCodes.BAD_REQUEST);
  t.is(errorCode(await request(connection, 4, 'putManyPart', part(4, 0, false, k, v))), 'ok');
  t.is(errorCode(await request(connection, 5, 'putManyPart', part(4, 0, false, k, v))), ErrorCodes.BAD_REQUEST);
  t.deepEqual(await request(connection, 6, 'get', { db: 'default', key: k[0] }), [1, 6, null]);
});

test('a connection lost between parts writes nothing and holds no key: the keys take other writes at once', async (t) => {
  const address = group.group.servers[0]!.address;
  const doomed = await RawConnection.open(address);
  const keys = [key('lost', 0), key('lost', 1)];
  t.is(errorCode(await request(doomed, 1, 'putManyPart', part(5, 0, false, keys, keys.map((_, i) => value(i, 10))))), 'ok');
  doomed.destroy();
  await doomed.closed;
  const connection = await RawConnection.open(address);
  t.teardown(() => connection.destroy());
  t.deepEqual(await request(connection, 1, 'get', { db: 'default', key: keys[0] }), [1, 1, null]);
  t.deepEqual(await request(connection, 2, 'put', { db: 'default', key: keys[1], value: Buffer.from('other') }), [1, 2, null]);
  const reply = await request(connection, 3, 'get', { db: 'default', key: keys[1] });
  t.is(Buffer.from(reply[2] as Uint8Array).toString(), 'other');
});

test('one connection holds at most putManyStagingsPerConnectionMax stagings; a staging is bounded by frameBytesMax', async (t) => {
  const connection = await RawConnection.open(group.group.servers[0]!.address);
  t.teardown(() => connection.destroy());
  const k = [key('limit', 0)];
  const v = [value(0, 10)];
  for (let s = 0; s < STAGINGS_MAX; s++) t.is(errorCode(await request(connection, 1 + s, 'putManyPart', part(100 + s, 0, false, k, v))), 'ok');
  t.is(errorCode(await request(connection, 10, 'putManyPart', part(200, 0, false, k, v))), ErrorCodes.TOO_MANY_IN_FLIGHT);
  // Closing one staging (its last part) gives its place back.
  t.is(errorCode(await request(connection, 11, 'putManyPart', part(100, 1, true, k, v))), 'ok');
  // Three parts of 120 KiB: the third takes the staging past frameBytesMax (256 KiB).
  const big = [value(1, 120 * 1024)];
  t.is(errorCode(await request(connection, 12, 'putManyPart', part(300, 0, false, [key('big', 0)], big))), 'ok');
  t.is(errorCode(await request(connection, 13, 'putManyPart', part(300, 1, false, [key('big', 1)], big))), 'ok');
  t.is(errorCode(await request(connection, 14, 'putManyPart', part(300, 2, true, [key('big', 2)], big))), ErrorCodes.BATCH_TOO_LARGE);
  t.deepEqual(await request(connection, 15, 'get', { db: 'default', key: key('big', 0) }), [1, 15, null]);
});

import test, { type ExecutionContext } from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../../client/client.js';
import { ErrorCodes, HpckvError, type WireError } from '../../../core/errors.js';
import type { Limits } from '../../../core/limits.js';
import { unpackList } from '../../../core/wire/packed-list.js';
import { launchLocalGroup, type LocalGroup } from '../../../server/launcher.js';
import { RawConnection, frameOf } from '../../support/raw-connection.js';

/**
 * The per-server limits that bound what one client can make a server hold, each against a real
 * server process over loopback TCP: connections, requests in flight per connection and scan page
 * bytes. (Frame bytes and batch entries are in bad-input.test.ts, which sends them raw.)
 * Serial: each test counts the server's connections or pages. The connections test is last: the
 * others hold at most two connections each, so what they leave behind never fills the server.
 */

const CONNECTIONS_MAX = 4;
const IN_FLIGHT_MAX = 8;
const PAGE_BYTES_MAX = 4096;
const LIMITS: Partial<Limits> = {
  connectionsPerServerMax: CONNECTIONS_MAX,
  inFlightRequestsPerConnectionMax: IN_FLIGHT_MAX,
  scanPageBytesMax: PAGE_BYTES_MAX,
};
const DB = 'default';

type Envelope = [number, number, unknown];

let dir: string;
let group: LocalGroup;
let address: string;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hpckv-limits-'));
  group = await launchLocalGroup({ servers: 1, dir, transport: 'tcp', limits: LIMITS, databases: [DB] });
  address = group.group.servers[0]!.address;
});

test.after.always(async () => {
  await group?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/**
 * Opens a raw connection and has it answered once, so the server has surely counted it. A
 * server still full of connections an earlier step closed is tried again: it learns of a close
 * on its own socket event, after the client's side is gone. Each try is a full round trip, not
 * a sleep. Returns the connection and how many tries it took.
 */
async function acceptedConnection(t: ExecutionContext): Promise<{ connection: RawConnection; tries: number }> {
  for (let tries = 1; tries <= 1000; tries++) {
    const connection = await RawConnection.open(address);
    await connection.send([0, 1, 'hello', {}]);
    const reply = await connection.next() as Envelope;
    if (reply[0] === 1) return { connection, tries };
    t.is((reply[2] as WireError).code, ErrorCodes.TOO_MANY_CONNECTIONS, JSON.stringify(reply));
    await connection.closed;
  }
  throw new Error('closed connections never gave their places back');
}

async function closeAll(connections: RawConnection[]): Promise<void> {
  for (const connection of connections) connection.destroy();
  await Promise.all(connections.map((connection) => connection.closed));
}

test.serial('inFlightRequestsPerConnectionMax: requests beyond it are refused, not run; every request gets one reply', async (t) => {
  const { connection } = await acceptedConnection(t);
  const requests = 40;
  const key = (i: number): Buffer => Buffer.from(`inflight-${String(i).padStart(3, '0')}`);
  // All in one write: the server reads them in one go, and a put stays in flight until LevelDB
  // has written it, so the ones read after the first IN_FLIGHT_MAX meet a full connection.
  await connection.write(Buffer.concat(Array.from({ length: requests }, (_, i) =>
    frameOf([0, 100 + i, 'put', { db: DB, key: key(i), value: Buffer.from(`value ${i}`) }]))));
  const accepted: number[] = [];
  const refused: number[] = [];
  for (let n = 0; n < requests; n++) {
    const [kind, id, body] = await connection.next() as Envelope;
    if (kind === 1) { accepted.push(id - 100); continue; }
    const error = body as WireError;
    t.is(error.code, ErrorCodes.TOO_MANY_IN_FLIGHT, error.message);
    t.true(error.retryable);
    t.like(error.details, { limit: 'inFlightRequestsPerConnectionMax', max: IN_FLIGHT_MAX });
    refused.push(id - 100);
  }
  t.log(`${accepted.length} accepted, ${refused.length} refused`);
  t.true(accepted.length >= IN_FLIGHT_MAX, 'the first IN_FLIGHT_MAX are always taken');
  t.true(refused.length > 0, 'some were refused');
  t.deepEqual([...accepted, ...refused].sort((a, b) => a - b), Array.from({ length: requests }, (_, i) => i));
  // What was refused was not written; what was accepted was.
  for (let i = 0; i < requests; i++) {
    await connection.send([0, 1000 + i, 'get', { db: DB, key: key(i) }]);
    const [kind, , value] = await connection.next() as Envelope;
    t.is(kind, 1);
    if (accepted.includes(i)) t.deepEqual(Buffer.from(value as Uint8Array), Buffer.from(`value ${i}`));
    else t.is(value, null, `refused put ${i} was not applied`);
  }
  await closeAll([connection]);

  // A Client never overruns the limit: it queues its own requests beyond it.
  const client = await Client.open(group.groupFile);
  await Promise.all(Array.from({ length: 200 }, (_, i) => client.put(`queued-${i}`, `v${i}`)));
  const values = await client.getMany(Array.from({ length: 200 }, (_, i) => `queued-${i}`));
  t.deepEqual(values.map((v) => Buffer.from(v!).toString()), Array.from({ length: 200 }, (_, i) => `v${i}`));
  await client.close();
});

test.serial('scanPageBytesMax: a scan page asking for more is lowered to it; one larger entry still makes progress', async (t) => {
  const client = await Client.open(group.groupFile);
  const entryValue = (i: number): Buffer => Buffer.alloc(200, i);
  const keys = Array.from({ length: 100 }, (_, i) => `page-${String(i).padStart(3, '0')}`); // 8 bytes each
  await client.putMany(keys.map((key, i) => [key, entryValue(i)] as const));
  const { connection } = await acceptedConnection(t);
  await connection.send([0, 2, 'scan', { db: DB, gte: Buffer.from('page-'), lt: Buffer.from('page.'), limit: 1000, pageBytes: 1 << 30 }]);
  const [kind, , reply] = await connection.next() as Envelope;
  t.is(kind, 1);
  const page = reply as { keys: Uint8Array; values: Uint8Array; done: boolean };
  const pageKeys = unpackList(page.keys, 'keys', 1000);
  const pageValues = unpackList(page.values, 'values', 1000);
  // 208 bytes an entry: 19 are 3952 bytes, under the limit, so the 20th is taken and crosses it.
  t.is(pageKeys.length, Math.ceil(PAGE_BYTES_MAX / 208));
  t.deepEqual(pageKeys.map((k) => k!.toString()), keys.slice(0, pageKeys.length));
  t.deepEqual(pageValues, keys.slice(0, pageKeys.length).map((_, i) => entryValue(i)));
  t.false(page.done);

  // An entry larger than the page limit comes back alone in its page.
  await client.put('page-big', Buffer.alloc(3 * PAGE_BYTES_MAX, 7));
  await connection.send([0, 3, 'scan', { db: DB, gte: Buffer.from('page-big'), lt: Buffer.from('page.'), limit: 1000 }]);
  const [, , bigReply] = await connection.next() as Envelope;
  const bigKeys = unpackList((bigReply as { keys: Uint8Array }).keys, 'keys', 1000);
  t.deepEqual(bigKeys.map((k) => k!.toString()), ['page-big']);
  await closeAll([connection]);

  // The client pages through it all, in order.
  const scanned: string[] = [];
  for await (const [key] of client.iterate({ gte: 'page-', lt: 'page.' })) scanned.push(Buffer.from(key as Uint8Array).toString());
  t.deepEqual(scanned, [...keys, 'page-big'].sort());
  await client.close();
});

test.serial('connectionsPerServerMax: the connection beyond it is refused with a typed, retryable error; the others keep working', async (t) => {
  const held: RawConnection[] = [];
  for (let i = 0; i < CONNECTIONS_MAX; i++) held.push((await acceptedConnection(t)).connection);

  const extra = await RawConnection.open(address);
  await extra.send([0, 1, 'hello', {}]);
  const [kind, id, error] = await extra.next() as [number, number, WireError];
  t.is(kind, 2);
  t.is(id, 0, 'the refusal is about the connection, not a request');
  t.is(error.code, ErrorCodes.TOO_MANY_CONNECTIONS);
  t.true(error.retryable);
  t.like(error.details, { limit: 'connectionsPerServerMax', max: CONNECTIONS_MAX });
  await extra.closed;
  t.deepEqual(extra.unread, [], 'the hello sent on the refused connection did not run');

  // The held connections are still served.
  for (const connection of held) {
    await connection.send([0, 2, 'hello', {}]);
    t.is((await connection.next() as Envelope)[0], 1);
  }

  // A Client meets the same typed error when the server is full.
  const client = await Client.open(group.groupFile).catch((cause: unknown) => cause);
  if (client instanceof Client) {
    const refused = await t.throwsAsync(client.get('k'), { instanceOf: HpckvError });
    t.is(refused?.code, ErrorCodes.TOO_MANY_CONNECTIONS);
    await client.close();
  } else {
    t.true(client instanceof HpckvError);
    t.is((client as HpckvError).code, ErrorCodes.TOO_MANY_CONNECTIONS);
  }

  // Closing one frees its place (once the server has seen the close).
  await closeAll(held.splice(0, 1));
  const { connection: next, tries } = await acceptedConnection(t);
  held.push(next);
  t.log(`place given back after ${tries} tries`);
  await closeAll(held);
});

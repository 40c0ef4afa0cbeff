import test, { type ExecutionContext } from 'ava';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '../../client/client.js';
import { ErrorCodes, HpckvError, type WireError } from '../../core/errors.js';
import { groupAuthSecret, parseGroupFile, type GroupFile } from '../../core/group-file.js';
import { packPairs } from '../../core/regions/packed-pairs.js';
import { launchLocalGroup, type LocalGroup } from '../../server/launcher.js';
import { writeNewAuthSecretFile } from '../../server/auth-secret.js';
import { RawConnection } from '../support/raw-connection.js';
import { rejoinRank } from '../support/rejoin-rank.js';
import { runScript } from '../support/run-script.js';

/**
 * A group with a shared secret, as real server processes over loopback TCP: clients holding the
 * group file are served; clients without the secret, with a wrong one, or speaking out of turn
 * are refused before any request runs; the secret never crosses the wire; a restarted rank keeps
 * asking for it. Serial: tests compare what the servers hold before and after refused requests.
 */

const HANDSHAKE_MS = 1500;
const CLI = fileURLToPath(new URL('../../bin/hpckv.js', import.meta.url));

type Envelope = [number, number, unknown];

let dir: string;
let group: LocalGroup;
let secret: Buffer;
let client: Client;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hpckv-auth-'));
  const secretFile = join(dir, 'auth.secret');
  await writeNewAuthSecretFile(secretFile);
  group = await launchLocalGroup({
    servers: 2, dir, transport: 'tcp', authSecretFile: secretFile,
    // regionEagerBytesMax 0: region puts are pulled over the back channel, which must work after the handshake.
    limits: { authHandshakeTimeoutMs: HANDSHAKE_MS, regionEagerBytesMax: 0 },
  });
  secret = Buffer.from(groupAuthSecret(group.group)!);
  client = await Client.open(group.groupFile);
});

test.after.always(async () => {
  await client?.close();
  await group?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** The group as a client without the secret would see it. */
function withoutSecret(): GroupFile {
  const copy = structuredClone(group.group);
  delete copy.auth;
  return copy;
}

function hmac(role: string, first: Uint8Array, second: Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`hpckv-auth-v1 ${role}\n`).update(first).update(second).digest();
}

/** Expects the connection-level refusal (id 0) with HPCKV_ERR_UNAUTHENTICATED, then the close, with nothing else. */
async function refusedUnauthenticated(t: ExecutionContext, connection: RawConnection, what: string): Promise<WireError> {
  const [kind, id, error] = await connection.next() as [number, number, WireError];
  t.is(kind, 2, what);
  t.is(id, 0, `${what}: about the connection`);
  t.is(error.code, ErrorCodes.UNAUTHENTICATED, `${what}: ${error.message}`);
  t.false(error.retryable);
  await connection.closed;
  t.deepEqual(connection.unread, [], `${what}: nothing after the refusal`);
  return error;
}

test.serial('the group file carries the secret, readable by its owner only, and its client is served: point ops, scans, region puts, procedures', async (t) => {
  t.is((await stat(group.groupFile)).mode & 0o777, 0o600);
  t.is((await stat(join(dir, 'auth.secret'))).mode & 0o777, 0o600);
  t.is(group.group.auth?.scheme, 'hmac-sha256');
  // The secret is the file's bytes less its newline: 32 random bytes written as base64 text.
  t.deepEqual(secret, (await readFile(join(dir, 'auth.secret'))).subarray(0, 44));

  await client.putMany(Array.from({ length: 50 }, (_, i) => [`k${String(i).padStart(2, '0')}`, `v${i}`] as const));
  t.is((await client.get('k07'))?.toString(), 'v7');
  const scanned: string[] = [];
  for await (const [key] of client.iterate({ gte: 'k', lt: 'l' })) scanned.push(Buffer.from(key as Uint8Array).toString());
  t.is(scanned.length, 50);

  // The server pulls these pairs from the client's memory over the authenticated connection.
  const pairs = Array.from({ length: 100 }, (_, i): [Buffer, Buffer] => [Buffer.from(`r${String(i).padStart(3, '0')}`), Buffer.from(`region ${i}`)]);
  const region = await client.registerRegion(packPairs(pairs), 'r');
  t.is(await (await client.putFromRegion(region)).wait(), 100);
  client.deregisterRegion(region);
  t.is((await client.get('r042'))?.toString(), 'region 42');

  const matches = await (await client.execute({ kind: 'filter', source: '(key) => hpckv.utf8(key).startsWith("k4")' })).wait() as Array<[Buffer, Buffer]>;
  t.deepEqual(matches.map(([key]) => key.toString()).sort(), Array.from({ length: 10 }, (_, i) => `k4${i}`));
});

test.serial('a client without the secret, or with another one, is refused and nothing it sent is applied', async (t) => {
  const before = await client.stat();
  const stranger = await Client.fromGroup(withoutSecret());
  const noSecret = await t.throwsAsync(stranger.put('intruder', 'x'), { instanceOf: HpckvError });
  t.is(noSecret?.code, ErrorCodes.UNAUTHENTICATED);
  t.false(noSecret?.retryable);
  await stranger.close();

  const wrong = await Client.open(group.groupFile, { authSecret: randomBytes(32) });
  const wrongSecret = await t.throwsAsync(wrong.put('intruder', 'y'), { instanceOf: HpckvError });
  t.is(wrongSecret?.code, ErrorCodes.UNAUTHENTICATED);
  await wrong.close();

  const after = await client.stat();
  // Each server answered exactly one request in between: the second stat.
  t.deepEqual(after.map((s, i) => s.requests - before[i]!.requests), after.map(() => 1));
  t.is(await client.get('intruder'), undefined);
});

test.serial('raw: any request before the handshake, a wrong proof, a replayed proof or a second challenge closes the connection', async (t) => {
  const address = group.group.servers[0]!.address;
  // hello, and a put that must not land.
  for (const request of [[0, 1, 'hello', {}], [0, 1, 'put', { db: 'default', key: Buffer.from('raw-intruder'), value: Buffer.from('z') }]]) {
    const connection = await RawConnection.open(address);
    await connection.send(request);
    const error = await refusedUnauthenticated(t, connection, String(request[2]));
    t.regex(error.message, /before authenticating is refused/);
  }
  t.is(await client.get('raw-intruder'), undefined);

  // A correct handshake, done by hand: the reference for the cases after it.
  const honest = await RawConnection.open(address);
  await honest.send([0, 1, 'authChallenge', {}]);
  const [, , challenge] = await honest.next() as [number, number, { required: boolean; nonce: Uint8Array }];
  t.true(challenge.required);
  const clientNonce = randomBytes(32);
  const proof = hmac('client', challenge.nonce, clientNonce);
  await honest.send([0, 2, 'authProve', { nonce: clientNonce, proof }]);
  const [kind, , reply] = await honest.next() as [number, number, { proof: Uint8Array }];
  t.is(kind, 1);
  t.true(Buffer.from(reply.proof).equals(hmac('server', clientNonce, challenge.nonce)), 'the server proves the secret back');
  await honest.send([0, 3, 'hello', {}]);
  t.is((await honest.next() as Envelope)[0], 1, 'served after the handshake');
  honest.destroy();

  const cases: Array<[string, (c: RawConnection, nonce: Uint8Array) => Promise<unknown>]> = [
    ['wrong proof', (c, nonce) => c.send([0, 2, 'authProve', { nonce: clientNonce, proof: hmac('client', nonce, randomBytes(32)) }])],
    ['replayed proof of another connection', (c) => c.send([0, 2, 'authProve', { nonce: clientNonce, proof }])],
    ['the server\'s proof sent back as the client\'s', (c, nonce) => c.send([0, 2, 'authProve', { nonce: clientNonce, proof: hmac('server', clientNonce, nonce) }])],
    ['proof of the wrong size', (c) => c.send([0, 2, 'authProve', { nonce: clientNonce, proof: Buffer.alloc(16) }])],
    ['no proof at all', (c) => c.send([0, 2, 'authProve', null])],
    ['a second challenge', (c) => c.send([0, 2, 'authChallenge', {}])],
  ];
  for (const [what, send] of cases) {
    const connection = await RawConnection.open(address);
    await connection.send([0, 1, 'authChallenge', {}]);
    const [, , fresh] = await connection.next() as [number, number, { nonce: Uint8Array }];
    t.false(Buffer.from(fresh.nonce).equals(Buffer.from(challenge.nonce)), `${what}: a fresh nonce per connection`);
    await send(connection, fresh.nonce);
    await refusedUnauthenticated(t, connection, what);
  }
  // A proof before any challenge.
  const early = await RawConnection.open(address);
  await early.send([0, 1, 'authProve', { nonce: clientNonce, proof }]);
  await refusedUnauthenticated(t, early, 'proof before challenge');
  t.is((await client.get('k07'))?.toString(), 'v7', 'the servers keep serving');
});

test.serial('raw: a connection that never authenticates is closed after authHandshakeTimeoutMs', async (t) => {
  const connection = await RawConnection.open(group.group.servers[1]!.address);
  const opened = Date.now();
  const error = await refusedUnauthenticated(t, connection, 'silent connection');
  t.regex(error.message, /within authHandshakeTimeoutMs/);
  t.true(Date.now() - opened >= HANDSHAKE_MS - 50, `closed after ${Date.now() - opened} ms`);
});

/** A TCP relay to `target` that keeps every byte it forwards, both ways. */
async function recordingRelay(target: string): Promise<{ server: Server; address: string; seen: Buffer[]; sockets: Socket[] }> {
  const [host, port] = target.replace('tcp://', '').split(':');
  const seen: Buffer[] = [];
  const sockets: Socket[] = [];
  const server = createServer((inbound) => {
    const outbound = createConnection({ host: host!, port: Number(port) });
    sockets.push(inbound, outbound);
    inbound.on('data', (chunk: Buffer) => { seen.push(Buffer.from(chunk)); outbound.write(chunk); });
    outbound.on('data', (chunk: Buffer) => { seen.push(Buffer.from(chunk)); inbound.write(chunk); });
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
    inbound.on('error', () => undefined);
    outbound.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, address: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, sockets };
}

test.serial('the secret never crosses the wire: a recorded session holds neither it nor its base64', async (t) => {
  const relays = await Promise.all(group.group.servers.map((server) => recordingRelay(server.address)));
  const relayed = structuredClone(group.group);
  relayed.servers.forEach((server, i) => { server.address = relays[i]!.address; });
  const watched = await Client.fromGroup(parseGroupFile(relayed));
  await watched.putMany([['watched-a', 'A'], ['watched-b', 'B'], ['watched-c', 'C']]);
  t.deepEqual((await watched.getMany(['watched-a', 'watched-b', 'watched-c'])).map((v) => v?.toString()), ['A', 'B', 'C']);
  await watched.close();
  const wire = Buffer.concat(relays.flatMap((relay) => relay.seen));
  t.true(wire.includes('authChallenge') && wire.includes('authProve'), 'the handshake went through the relays');
  t.false(wire.includes(secret), 'raw secret on the wire');
  t.false(wire.includes(secret.toString('base64')), 'base64 secret on the wire');
  t.false(wire.includes(secret.toString('hex')), 'hex secret on the wire');
  for (const relay of relays) {
    for (const socket of relay.sockets) socket.destroy();
    relay.server.close();
  }
});

test.serial('ranks given different secrets refuse to form a group', async (t) => {
  const other = await mkdtemp(join(tmpdir(), 'hpckv-auth-mismatch-'));
  t.teardown(() => rm(other, { recursive: true, force: true }));
  const files = [join(other, 'a.secret'), join(other, 'b.secret')];
  await writeNewAuthSecretFile(files[0]!);
  await writeNewAuthSecretFile(files[1]!);
  const results = await Promise.all([0, 1].map((rank) => runScript(CLI, [
    'serve', '--group-dir', other, '--data', join(other, 'data'), '--auth-secret-file', files[rank]!,
  ], { env: { ...process.env, HPCKV_RANK: String(rank), HPCKV_SIZE: '2', HPCKV_LAUNCH_ID: 'mismatch' }, timeoutMs: 60_000 })));
  for (const result of results) {
    t.not(result.code, 0);
    t.regex(result.stderr, /HPCKV_ERR_BAD_CONFIG: the ranks were not all given the same authentication secret/);
  }
  // A secret too short is refused before the rank starts.
  await writeFile(files[0]!, 'short\n');
  const short = await runScript(CLI, ['serve', '--group-dir', other, '--data', join(other, 'data'), '--auth-secret-file', files[0]!],
    { env: { ...process.env, HPCKV_RANK: '0', HPCKV_SIZE: '1', HPCKV_LAUNCH_ID: 'short' }, timeoutMs: 60_000 });
  t.not(short.code, 0);
  t.regex(short.stderr, /HPCKV_ERR_BAD_CONFIG: authentication secret file .* must be 16\.\.1024 bytes, got 5/);
});

test.serial('a rank restarted with --rejoin still asks for the secret', async (t) => {
  await client.put('before-restart', 'kept');
  const rank = client.serverFor('before-restart');
  group.processes[rank]!.kill('SIGKILL');
  await new Promise<void>((resolve) => group.processes[rank]!.once('exit', () => resolve()));
  const restarted = await rejoinRank(group.groupFile, rank, join(dir, 'data'));
  t.teardown(() => { restarted.kill('SIGTERM'); });
  const reader = await Client.open(group.groupFile);
  t.is((await reader.get('before-restart'))?.toString(), 'kept');
  await reader.close();
  const connection = await RawConnection.open(group.group.servers[rank]!.address);
  await connection.send([0, 1, 'hello', {}]);
  await refusedUnauthenticated(t, connection, 'hello to the restarted rank');
  const group2 = JSON.parse(await readFile(group.groupFile, 'utf8')) as GroupFile;
  t.is(group2.auth?.secret, secret.toString('base64'));
});

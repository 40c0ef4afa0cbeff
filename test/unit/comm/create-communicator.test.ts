import test from 'ava';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWorldCommunicator } from '../../../core/comm/create-communicator.js';
import { detectLaunch } from '../../../core/comm/launch-env.js';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-comm-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('an unavailable mpi backend is a BAD_CONFIG error saying why', async (t) => {
  // This test file never opens MPI; the addon's loader reads the switch on first use.
  process.env['HPCKV_MPI_DISABLE'] = '1';
  const error = await t.throwsAsync(createWorldCommunicator({ backend: 'mpi' }), { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.BAD_CONFIG);
  t.is(error?.message, 'native MPI backend unavailable: disabled by HPCKV_MPI_DISABLE=1');
});

test('the sockets backend needs a rendezvous', async (t) => {
  const error = await t.throwsAsync(createWorldCommunicator({ rank: 0, size: 1 }), { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.BAD_CONFIG);
  t.regex(error!.message, /rendezvous/);
});

test('the inproc backend is only reached through createInprocWorld', async (t) => {
  const error = await t.throwsAsync(createWorldCommunicator({ backend: 'inproc', rank: 0, size: 1, rendezvous: { dir: '/x' } }),
    { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.BAD_CONFIG);
  t.regex(error!.message, /createInprocWorld/);
});

test('bad rank, size or root address are BAD_CONFIG', async (t) => {
  const dir = await tempDir(t);
  const bad = [
    { rank: 2, size: 2, rendezvous: { dir } },
    { rank: 0, size: 0, rendezvous: { dir } },
    { rank: 0, size: 2, rendezvous: { rootAddress: 'tcp://127.0.0.1:0' } },
    { rank: 0, size: 2, rendezvous: { rootAddress: 'http://example' } },
    { rank: 0, size: 2, rendezvous: { dir }, timeoutMs: 0 },
  ];
  for (const options of bad) {
    const error = await t.throwsAsync(createWorldCommunicator(options), { instanceOf: HpckvError }, JSON.stringify(options));
    t.is(error?.code, ErrorCodes.BAD_CONFIG);
  }
});

test('without rank and size and without a launcher environment: BAD_CONFIG', async (t) => {
  if (detectLaunch() !== null) {
    t.pass('running under a launcher; nothing to check');
    return;
  }
  const error = await t.throwsAsync(createWorldCommunicator({ rendezvous: { dir: '/x' } }), { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.BAD_CONFIG);
});

test('a rank missing from the directory rendezvous times out with HPCKV_ERR_COMM naming it', async (t) => {
  const dir = await tempDir(t);
  const error = await t.throwsAsync(createWorldCommunicator({ rank: 0, size: 3, rendezvous: { dir }, timeoutMs: 300 }),
    { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.COMM);
  t.regex(error!.message, /ranks 1, 2/);
  t.deepEqual(await readdir(dir), [], 'the socket and rendezvous files are removed');
});

test('a rank whose root never appears times out with HPCKV_ERR_COMM', async (t) => {
  const dir = await tempDir(t);
  const error = await t.throwsAsync(createWorldCommunicator({
    rank: 1, size: 2, rendezvous: { rootAddress: `unix://${dir}/root.sock` }, timeoutMs: 300,
  }), { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.COMM);
  t.regex(error!.message, /root/);
});

test('two socket ranks in one process: messages, collectives, and a peer that closes', async (t) => {
  const dir = await tempDir(t);
  const [a, b] = await Promise.all([0, 1].map((rank) => createWorldCommunicator({ rank, size: 2, rendezvous: { dir } })));
  t.true(existsSync(join(dir, 'rank-0.sock')));
  await a!.send(1, 3, { bytes: Uint8Array.of(1, 2), big: -(2n ** 62n) });
  await a!.send(0, 3, 'to myself');
  const got = await b!.recv<{ bytes: Uint8Array; big: bigint }>(0, 3);
  t.deepEqual([...got.data.bytes], [1, 2]);
  t.is(got.data.big, -(2n ** 62n));
  t.is((await a!.recv(0, 3)).data, 'to myself');
  const [allA, allB] = await Promise.all([a!.allgather('a'), b!.allgather('b')]);
  t.deepEqual(allA, ['a', 'b']);
  t.deepEqual(allB, ['a', 'b']);
  await Promise.all([a!.barrier(), b!.barrier()]);

  const pending = a!.recv(1, 9);
  await b!.send(0, 8, 'last words');
  await b!.close();
  const error = await t.throwsAsync(pending, { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.COMM);
  t.is((await a!.recv(1, 8)).data, 'last words');
  await a!.close();
  t.deepEqual(await readdir(dir), [], 'socket and rendezvous files are removed on close');
});

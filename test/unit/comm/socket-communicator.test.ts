import test, { type ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createWorldCommunicator } from '../../../core/comm/create-communicator.js';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import { expectedExercise } from '../../support/comm-exercise.js';

/** The socket backend across real processes: test/support/fixtures/comm-worker.ts is one rank. */

const WORKER = fileURLToPath(new URL('../../support/fixtures/comm-worker.js', import.meta.url));
const SIZE = 4;

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-comm-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A port nobody listens on right now (the OS's choice, released at once). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

function startWorker(t: ExecutionContext, rank: number, size: number, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--no-node-snapshot', WORKER], {
    env: { ...process.env, HPCKV_RANK: String(rank), HPCKV_SIZE: String(size), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  return child;
}

/** Waits for the worker to exit; its one JSON line of results, or a failure that shows its stderr. */
async function result(child: ChildProcess): Promise<unknown> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  // 'close', not 'exit': only then has all of the child's output been read.
  const [code] = await once(child, 'close') as [number | null];
  if (code !== 0) throw new Error(`worker exited with ${String(code)}: ${stderr}`);
  return JSON.parse(stdout.trim());
}

async function runWorld(t: ExecutionContext, env: Record<string, string>): Promise<void> {
  const workers = Array.from({ length: SIZE }, (_, rank) => startWorker(t, rank, SIZE, env));
  const results = await Promise.all(workers.map(result));
  t.deepEqual(results, Array.from({ length: SIZE }, (_, rank) => expectedExercise(rank, SIZE)));
}

test('4 processes, directory rendezvous over Unix sockets', async (t) => {
  const dir = await tempDir(t);
  await runWorld(t, { COMM_WORKER_DIR: dir });
  t.deepEqual(await readdir(dir), [], 'sockets and rendezvous files are removed on close');
});

test('4 processes, rank 0 at a TCP root address', async (t) => {
  const port = await freePort();
  await runWorld(t, { COMM_WORKER_ROOT: `tcp://127.0.0.1:${port}` });
});

test('a peer that dies makes a pending receive from it (and a pending collective) reject with HPCKV_ERR_COMM', async (t) => {
  const dir = await tempDir(t);
  const child = startWorker(t, 1, 2, { COMM_WORKER_DIR: dir, COMM_WORKER_MODE: 'idle' });
  const exited = once(child, 'exit');
  const comm = await createWorldCommunicator({ rank: 0, size: 2, rendezvous: { dir }, timeoutMs: 15_000 });
  t.teardown(() => comm.close());
  const pendingRecv = comm.recv(1, 5);
  const pendingBarrier = comm.barrier();
  child.kill('SIGKILL');
  await exited;
  for (const pending of [pendingRecv, pendingBarrier]) {
    const error = await t.throwsAsync(pending, { instanceOf: HpckvError });
    t.is(error?.code, ErrorCodes.COMM);
  }
  const sendError = await t.throwsAsync(comm.send(1, 1, 'anyone there?'), { instanceOf: HpckvError });
  t.is(sendError?.code, ErrorCodes.COMM);
});

import test, { type ExecutionContext } from 'ava';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../../../server/index.js';
import { createInprocWorld } from '../../../core/comm/inproc-endpoint.js';
import type { Communicator } from '../../../core/comm/communicator.js';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import { mpiTest, reportsByRank, runUnderMpirun } from '../../support/mpi-tests.js';
import { runRank } from '../../support/run-rank.js';
import {
  SDSDKV_COMPARE_DEFAULT, SDSDKV_DB_LEVELDB, SDSDKV_ERR_INVLD_CONFIG, SDSDKV_ERR_SIZE, SDSDKV_ERR_UNKNOWN_KEY,
  SDSDKV_HASHING_CH_PLACEMENT, SDSDKV_PERSONALITY_CLIENT, SDSDKV_PERSONALITY_SERVER, SDSDKV_SUCCESS,
} from '../../../client/sdsdkv-codes.js';
import { sdsdkv_create, sdsdkv_destroy, sdsdkv_last_error, sdsdkv_open, type SdsdkvContext, type SdsdkvContextRef } from '../../../client/sdsdkv.js';

const FIXTURE = fileURLToPath(new URL('../../support/fixtures/sdsdkv-trivial.js', import.meta.url));

interface ClientReport {
  rank: number; read: Array<[string, string, number]>; rcSmall: number; neededSize: number; rcMissing: number; records: number[];
}

/** What both client ranks (1 and 3) must have reported, and each server rank's own LevelDB under db_path. */
async function checkScenario(t: ExecutionContext, dir: string, reports: Map<number, ClientReport>): Promise<void> {
  t.deepEqual([...reports.keys()].sort(), [1, 3], 'one report from each client rank');
  for (const clientRank of [1, 3]) {
    const report = reports.get(clientRank)!;
    t.deepEqual(report.read, Array.from({ length: 21 }, (_, i) => [String(i + clientRank), String(i + clientRank + 1), 8]));
    t.is(report.rcSmall, SDSDKV_ERR_SIZE);
    t.is(report.neededSize, 8);
    t.is(report.rcMissing, SDSDKV_ERR_UNKNOWN_KEY);
    // Keys 1..23 (the union of both clients' keys) spread over both servers, each stored once.
    t.is(report.records.length, 2);
    t.is(report.records[0]! + report.records[1]!, 23);
    t.true(report.records.every((n) => n > 0));
  }
  t.deepEqual((await readdir(join(dir, 'TEST-DB'))).filter((name) => name.startsWith('rank-')).sort(), ['rank-0', 'rank-1']);
  await rm(dir, { recursive: true, force: true });
}

for (const protocol of ['ofi+tcp', 'unix']) {
  test(`SDSDKV trivial scenario: 2 servers + 2 clients as 4 processes (${protocol})`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'hpckv-sdsdkv-'));
    const args = [join(dir, 'TEST-DB'), join(dir, 'rendezvous'), protocol];
    const results = await Promise.all([0, 1, 2, 3].map((rank) => runRank(FIXTURE, rank, 4, args)));
    for (const [rank, result] of results.entries()) t.is(result.code, 0, `rank ${rank} failed: ${result.stderr}`);
    for (const serverRank of [0, 2]) t.is(results[serverRank]!.stdout, '');
    await checkScenario(t, dir, reportsByRank<ClientReport>(results.map((result) => result.stdout).join('')));
  });
}

mpiTest('SDSDKV trivial scenario under mpirun -np 4: the world communicator over native MPI', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-sdsdkv-mpi-'));
  const result = await runUnderMpirun(4, FIXTURE, [join(dir, 'TEST-DB'), join(dir, 'unused'), 'unix', 'mpi']);
  t.is(result.code, 0, `mpirun failed: ${result.stderr}`);
  await checkScenario(t, dir, reportsByRank<ClientReport>(result.stdout));
});

/** One rank's context over `comm` (in-process transport), `servers` the ranks with the server personality. */
function createContext(t: ExecutionContext, comm: Communicator, servers: readonly number[], dbPath: string): SdsdkvContext {
  const ref: SdsdkvContextRef = {};
  t.is(sdsdkv_create(ref, {
    init_comm: comm, personality: servers.includes(comm.rank) ? SDSDKV_PERSONALITY_SERVER : SDSDKV_PERSONALITY_CLIENT,
    rpc_thread_count: -1, hash_be: SDSDKV_HASHING_CH_PLACEMENT, db_type: SDSDKV_DB_LEVELDB, cmp_fn: SDSDKV_COMPARE_DEFAULT,
    group_name: 'reopen', db_path: dbPath, comm_protocol: 'inproc',
  }), SDSDKV_SUCCESS);
  return ref.value!;
}

test('a server that cannot start fails sdsdkv_open on every rank with its code (a db_path made for another server count: GROUP_FILE)', async (t) => {
  const dbPath = await mkdtemp(join(tmpdir(), 'hpckv-sdsdkv-reopen-'));
  t.teardown(() => rm(dbPath, { recursive: true, force: true }));
  const first = createInprocWorld(3);
  // Servers return from sdsdkv_open once a client's sdsdkv_destroy shut them down.
  await Promise.all(first.map(async (comm) => {
    const ctx = createContext(t, comm, [0, 1], dbPath);
    t.is(await sdsdkv_open(ctx), SDSDKV_SUCCESS);
    t.is(await sdsdkv_destroy(ctx), SDSDKV_SUCCESS);
  }));
  await Promise.all(first.map((comm) => comm.close()));
  // Now one server on rank-0's store, made for two: rank 0 refuses, and the clients (ranks 1, 2) hear why.
  const second = createInprocWorld(3);
  const contexts = second.map((comm) => createContext(t, comm, [0], dbPath));
  t.deepEqual(await Promise.all(contexts.map((ctx) => sdsdkv_open(ctx))), [SDSDKV_ERR_INVLD_CONFIG, SDSDKV_ERR_INVLD_CONFIG, SDSDKV_ERR_INVLD_CONFIG]);
  for (const [rank, ctx] of contexts.entries()) {
    const error = sdsdkv_last_error(ctx) as HpckvError;
    t.true(error instanceof HpckvError, `rank ${rank}`);
    t.is(error.code, ErrorCodes.GROUP_FILE, `rank ${rank}`);
    t.is(error.details['field'], 'serverCount', `rank ${rank}`);
    t.is(error.details['failedRank'], 0, `rank ${rank}`);
  }
  t.deepEqual(await Promise.all(contexts.map((ctx) => sdsdkv_destroy(ctx))), [SDSDKV_SUCCESS, SDSDKV_SUCCESS, SDSDKV_SUCCESS]);
  await Promise.all(second.map((comm) => comm.close()));
});

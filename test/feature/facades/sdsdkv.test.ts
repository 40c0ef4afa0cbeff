import test, { type ExecutionContext } from 'ava';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mpiTest, reportsByRank, runUnderMpirun } from '../../support/mpi-tests.js';
import { runRank } from '../../support/run-rank.js';
import { SDSDKV_ERR_SIZE, SDSDKV_ERR_UNKNOWN_KEY } from '../../../client/sdsdkv-codes.js';

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

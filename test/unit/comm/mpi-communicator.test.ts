import { fileURLToPath } from 'node:url';
import { ErrorCodes } from '../../../core/errors.js';
import { expectedExercise } from '../../support/comm-exercise.js';
import { mpiTest, reportsByRank, runUnderMpirun } from '../../support/mpi-tests.js';

/** The mpi backend across real processes under mpirun: test/support/fixtures/mpi-worker.ts is one rank. */

const WORKER = fileURLToPath(new URL('../../support/fixtures/mpi-worker.js', import.meta.url));
const SIZE = 4;

interface WorkerReport {
  rank: number;
  exercise: unknown;
  threadLevel: string;
  library: string;
  stream: unknown;
  idleCpu: number;
  peerCloses: unknown;
}

mpiTest('mpirun -np 4: messages, collectives, split, a 4 KiB stream in order, 1 MiB, to itself, idle ranks, a peer that closes', async (t) => {
  const result = await runUnderMpirun(SIZE, WORKER);
  t.is(result.code, 0, `mpirun failed: ${result.stderr}`);
  const reports = reportsByRank<WorkerReport>(result.stdout);
  t.deepEqual([...reports.keys()].sort(), [0, 1, 2, 3]);
  for (const [rank, report] of reports) {
    t.deepEqual(report.exercise, expectedExercise(rank, SIZE));
    // Asked for MPI_THREAD_MULTIPLE; whatever the library provided is reported.
    t.true(['single', 'funneled', 'serialized', 'multiple'].includes(report.threadLevel), report.threadLevel);
    t.true(report.library.length > 0);
    // Waiting 300 ms for a message, a rank polls with back-off: far below a busy core.
    t.true(report.idleCpu < 0.25, `rank ${rank} used ${(report.idleCpu * 100).toFixed(1)}% of a core while idle`);
  }
  t.deepEqual(reports.get(1)!.stream, { inOrder: 500, large: true });
  t.deepEqual(reports.get(2)!.stream, { self: ['one', 'two', 'three'] });
  t.deepEqual(reports.get(0)!.peerCloses, { pendingError: ErrorCodes.COMM, words: 'last words', sendError: ErrorCodes.COMM });
  t.log(`MPI: ${reports.get(0)!.library}; thread level ${reports.get(0)!.threadLevel}; `
    + `idle CPU ${[...reports.values()].map((r) => (r.idleCpu * 100).toFixed(1) + '%').join(', ')}`);
});

mpiTest('a rank that exits without closing ends the whole mpirun job (the exit guard calls MPI_Abort)', async (t) => {
  const result = await runUnderMpirun(SIZE, WORKER, [], { env: { ...process.env, MPI_WORKER_MODE: 'exit-early' }, timeoutMs: 30_000 });
  t.not(result.code, 0);
  t.not(result.code, null, 'mpirun ended on its own, not by the test timeout');
  t.regex(result.stderr, /hpckv-mpi: process exiting without MPI_Finalize/);
});

import test, { type ExecutionContext } from 'ava';
import { mpiUnavailableReason } from '../../core/comm/mpi-addon.js';
import { mpirunCommand, mpirunUnavailableReason } from '../../bench/mpirun.js';
import { runCommand, type ScriptResult } from './run-script.js';

/**
 * MPI tests run only where the addon is built and mpirun answers; elsewhere each is registered
 * as skipped, its title giving the reason, so a run without MPI reports them skipped (never
 * passed). HPCKV_MPI_DISABLE=1 simulates a machine without MPI.
 */
export const MPI_SKIP_REASON: string | undefined = mpiUnavailableReason() ?? mpirunUnavailableReason();

export function mpiTest(title: string, run: (t: ExecutionContext) => Promise<void>): void {
  if (MPI_SKIP_REASON === undefined) test(title, run);
  else test.skip(`${title} [skipped: ${MPI_SKIP_REASON}]`, () => undefined);
}

/** Runs `script` as `np` ranks under mpirun (killed after `timeoutMs`). */
export function runUnderMpirun(np: number, script: string, args: readonly string[] = [],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ScriptResult> {
  const { command, args: argv, env } = mpirunCommand(np, script, args, options.env ?? process.env);
  return runCommand(command, argv, { env, timeoutMs: options.timeoutMs ?? 60_000 });
}

/** The JSON lines the ranks printed (mpirun forwards every rank's stdout), by their `rank` field. */
export function reportsByRank<T extends { rank: number }>(stdout: string): Map<number, T> {
  const reports = new Map<number, T>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const report = JSON.parse(line) as T;
    reports.set(report.rank, report);
  }
  return reports;
}

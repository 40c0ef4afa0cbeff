import { spawnSync } from 'node:child_process';

/**
 * How to start `np` node processes under this machine's mpirun, for the MPI tests and
 * `npm run bench:mpi`. Open MPI's mpirun gets `--oversubscribe --bind-to none` (more ranks than
 * cores, none pinned, as on a 2-core test machine), loopback-only traffic (out-of-band on `lo`,
 * shared memory and self for messages) unless the environment already chooses, and, when run as
 * root, the two variables Open MPI wants before it agrees to that. Other launchers (MPICH's
 * Hydra) get just `-np`.
 */

export interface MpirunCommand {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

let flavour: { openMpi: boolean } | { missing: string } | undefined;

function probe(): { openMpi: boolean } | { missing: string } {
  const run = spawnSync('mpirun', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (run.error !== undefined) return { missing: `mpirun is not on PATH (${(run.error as NodeJS.ErrnoException).code ?? run.error.message})` };
  return { openMpi: /Open MPI|OpenRTE/i.test(`${run.stdout}${run.stderr}`) };
}

/** Why mpirun cannot be used here, or undefined if it can. */
export function mpirunUnavailableReason(): string | undefined {
  flavour ??= probe();
  return 'missing' in flavour ? flavour.missing : undefined;
}

/** mpirun running `node --no-node-snapshot script ...args` as `np` ranks. */
export function mpirunCommand(np: number, script: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): MpirunCommand {
  flavour ??= probe();
  const openMpi = 'openMpi' in flavour && flavour.openMpi;
  const launcherArgs = openMpi ? ['--oversubscribe', '--bind-to', 'none'] : [];
  const childEnv: NodeJS.ProcessEnv = { ...env };
  if (openMpi) {
    childEnv['OMPI_MCA_oob_tcp_if_include'] ??= 'lo';
    childEnv['OMPI_MCA_btl'] ??= 'self,vader';
    if (process.getuid?.() === 0) {
      childEnv['OMPI_ALLOW_RUN_AS_ROOT'] ??= '1';
      childEnv['OMPI_ALLOW_RUN_AS_ROOT_CONFIRM'] ??= '1';
    }
  }
  return {
    command: 'mpirun',
    args: ['-np', String(np), ...launcherArgs, process.execPath, '--no-node-snapshot', script, ...args],
    env: childEnv,
  };
}

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mpiUnavailableReason } from '../core/comm/mpi-addon.js';
import { runIfMain } from './bench-main.js';
import { mpirunCommand, mpirunUnavailableReason } from './mpirun.js';

/**
 * `npm run bench:mpi [-- --quick] [-- --json FILE]`: the communicator's round trip (64 B and
 * 4 KiB) and 4 KiB streaming over the native MPI backend against the sockets backend (Unix and
 * loopback TCP), in one run: two ranks under mpirun (bench/mpi-bench-rank.ts). Without MPI it
 * says why and exits 0 with nothing measured.
 */

const RANK_SCRIPT = fileURLToPath(new URL('./mpi-bench-rank.js', import.meta.url));

async function main(): Promise<void> {
  const unavailable = mpiUnavailableReason() ?? mpirunUnavailableReason();
  if (unavailable !== undefined) {
    process.stdout.write(`bench:mpi: nothing measured, the MPI backend is unavailable: ${unavailable}\n`);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-mpi-bench-'));
  try {
    const { command, args, env } = mpirunCommand(2, RANK_SCRIPT, ['--dir', dir, ...process.argv.slice(2)]);
    const child = spawn(command, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (code !== 0) throw new Error(`mpirun exited with ${String(code)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, main);

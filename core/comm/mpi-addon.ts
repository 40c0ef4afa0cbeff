import { createRequire } from 'node:module';
import type { MpiAddonLoad } from 'hpckv-mpi';

const require = createRequire(import.meta.url);

/**
 * The addon, or why it cannot be had. Never throws; the package is loaded on first use, so a
 * process that never asks for MPI never loads libmpi.
 */
export function loadMpi(): MpiAddonLoad {
  try {
    return (require('hpckv-mpi') as { loadMpiAddon: () => MpiAddonLoad }).loadMpiAddon();
  } catch (cause) {
    return { available: false, reason: `the hpckv-mpi package cannot be loaded (${(cause as Error).message})` };
  }
}

/** Why the mpi backend cannot be used in this process, or undefined if it can. */
export function mpiUnavailableReason(): string | undefined {
  const load = loadMpi();
  return load.available ? undefined : load.reason;
}

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The thread support MPI_Init_thread provided (hpckv asks for 'multiple'). */
export type MpiThreadLevel = 'single' | 'funneled' | 'serialized' | 'multiple';

export interface MpiInitInfo {
  rank: number;
  size: number;
  threadLevel: MpiThreadLevel;
  /** The MPI standard version, e.g. "3.1". */
  mpiVersion: string;
  /** First line of MPI_Get_library_version, e.g. "Open MPI v4.1.4, ...". */
  library: string;
}

/** The native calls; see packages/hpckv-mpi/src/hpckv_mpi.cc. Every call is from the main JavaScript thread. */
export interface MpiAddon {
  init(): MpiInitInfo;
  /** Non-blocking send; `data` stays referenced until the send completes (in a later poll). */
  isend(dest: number, tag: number, data: Buffer): void;
  /** Completes finished sends, then receives up to `maxMessages`: [source, tag, data, source, tag, data, ...]. */
  poll(maxMessages: number): Array<number | Buffer>;
  pendingSends(): number;
  /** Blocking MPI_Barrier. */
  barrier(): void;
  /** MPI_Finalize; throws while sends are pending. */
  finalize(): void;
  abort(code: number): void;
  state(): 'uninitialized' | 'active' | 'finalized';
}

export type MpiAddonLoad =
  | { available: true; addon: MpiAddon; path: string }
  | { available: false; reason: string };

/**
 * The addon's loader (packages/hpckv-mpi/index.cjs). Its sources ship inside the hpckv package and
 * hpckv's own install step builds them, so the loader sits at the same place relative to this file
 * in a checkout and in an installed package: this file runs as dist/core/comm/mpi-addon.js.
 */
export const MPI_ADDON_LOADER = fileURLToPath(new URL('../../../packages/hpckv-mpi/index.cjs', import.meta.url));

const require = createRequire(import.meta.url);

/**
 * The addon, or why it cannot be had. Never throws; the loader is required on first use, so a
 * process that never asks for MPI never loads libmpi.
 */
export function loadMpi(): MpiAddonLoad {
  try {
    return (require(MPI_ADDON_LOADER) as { loadMpiAddon: () => MpiAddonLoad }).loadMpiAddon();
  } catch (cause) {
    return { available: false, reason: `the MPI addon's loader ${MPI_ADDON_LOADER} cannot be loaded (${(cause as Error).message})` };
  }
}

/** Why the mpi backend cannot be used in this process, or undefined if it can. */
export function mpiUnavailableReason(): string | undefined {
  const load = loadMpi();
  return load.available ? undefined : load.reason;
}

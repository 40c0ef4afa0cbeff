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

/** The native calls; see src/hpckv_mpi.cc. Every call is from the main JavaScript thread. */
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

export function loadMpiAddon(): MpiAddonLoad;

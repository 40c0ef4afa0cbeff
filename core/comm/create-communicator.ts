import { mkdir } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ErrorCodes, HpckvError } from '../errors.js';
import { formatAddress, parseAddress, type Address } from '../rpc/address.js';
import type { Communicator } from './communicator.js';
import { GroupCommunicator } from './group-communicator.js';
import { detectLaunch } from './launch-env.js';
import { MpiEndpoint, type MpiEndpointOptions } from './mpi-endpoint.js';
import { SocketEndpoint, type SocketRendezvous } from './socket-endpoint.js';

export interface WorldCommunicatorOptions {
  /**
   * 'sockets' (the default). 'mpi': native MPI through the hpckv-mpi addon, for processes started
   * by mpirun/mpiexec/srun (HPCKV_ERR_BAD_CONFIG saying why when the addon is not available).
   * 'inproc' worlds are made with createInprocWorld.
   */
  backend?: 'sockets' | 'inproc' | 'mpi';
  /**
   * Default: from the launcher's environment (detectLaunch). Under 'mpi', MPI gives them; values
   * given must agree (else HPCKV_ERR_BAD_CONFIG, and MPI stays initialized until the process exits).
   */
  rank?: number;
  size?: number;
  /**
   * Sockets only (required there; 'mpi' needs none).
   * `dir`: a directory every rank can see, fresh for each launch (created if missing).
   * `rootAddress`: tcp://HOST:PORT (a fixed port) or unix:///PATH where rank 0 listens.
   */
  rendezvous?: SocketRendezvous;
  /** Default: the root address's scheme; else 'tcp' when `host` is given, else 'unix'. */
  transport?: 'unix' | 'tcp';
  /**
   * TCP: the host this rank listens on and advertises. Default: 127.0.0.1, or under a non-loopback
   * root address this machine's name. Set it on multi-host jobs.
   */
  host?: string;
  /** Time for the whole start-up (every rank present and connected). Sockets only. */
  timeoutMs?: number;
  /** The mpi backend's polling and message size (see MpiEndpointOptions). */
  mpi?: MpiEndpointOptions;
}

export const DEFAULT_COMM_TIMEOUT_MS = 60_000;

/** Unix socket paths longer than this do not fit sockaddr_un on Linux (108 bytes with the NUL). */
const UNIX_PATH_BYTES_MAX = 107;

function badConfig(message: string, cause?: unknown): HpckvError {
  return new HpckvError(ErrorCodes.BAD_CONFIG, message, { cause });
}

/**
 * This process's world communicator: every rank of the launch calls it with the same
 * rendezvous, and it resolves once all are connected.
 */
export async function createWorldCommunicator(options: WorldCommunicatorOptions): Promise<Communicator> {
  const backend = options.backend ?? 'sockets';
  if (backend === 'mpi') return createMpiWorld(options);
  if (backend === 'inproc') throw badConfig('the in-process backend holds every rank in one process: use createInprocWorld(size)');
  if (backend !== 'sockets') throw badConfig(`unknown communicator backend ${String(backend)}`);
  const { rank, size } = resolveRankAndSize(options);
  const timeoutMs = options.timeoutMs ?? DEFAULT_COMM_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw badConfig(`timeoutMs must be a positive number, got ${String(timeoutMs)}`);
  if (options.rendezvous === undefined) throw badConfig('the sockets backend needs a rendezvous: { dir } or { rootAddress }');
  const rendezvous = resolveRendezvous(options.rendezvous);
  if ('dir' in rendezvous) {
    await mkdir(rendezvous.dir, { recursive: true }).catch((cause: Error) => {
      throw badConfig(`cannot create rendezvous directory ${rendezvous.dir}: ${cause.message}`, cause);
    });
  }
  const listenAddress = chooseListenAddress(options, rendezvous, rank);
  const endpoint = await SocketEndpoint.start({ rank, size, rendezvous, listenAddress, timeoutMs });
  return GroupCommunicator.world(endpoint);
}

/** MPI gives rank and size; `rank`/`size`, if given, must be MPI's. */
function createMpiWorld(options: WorldCommunicatorOptions): Communicator {
  const endpoint = MpiEndpoint.open(options.mpi);
  for (const [name, given, actual] of [['rank', options.rank, endpoint.worldRank], ['size', options.size, endpoint.worldSize]] as const) {
    if (given !== undefined && given !== actual) throw badConfig(`${name} ${given} was given, but MPI says this process has ${name} ${actual}`);
  }
  return GroupCommunicator.world(endpoint);
}

function resolveRankAndSize(options: WorldCommunicatorOptions): { rank: number; size: number } {
  let { rank, size } = options;
  if (rank === undefined || size === undefined) {
    const launch = detectLaunch();
    rank ??= launch?.rank;
    size ??= launch?.size;
  }
  if (rank === undefined || size === undefined) {
    throw badConfig('rank and size were not given and no launcher environment was found '
      + '(HPCKV_RANK/HPCKV_SIZE, mpirun, PMI or srun)');
  }
  if (!Number.isSafeInteger(size) || size < 1) throw badConfig(`size must be a positive integer, got ${String(size)}`);
  if (!Number.isSafeInteger(rank) || rank < 0 || rank >= size) throw badConfig(`rank must be an integer in 0..${size - 1}, got ${String(rank)}`);
  return { rank, size };
}

function resolveRendezvous(rendezvous: SocketRendezvous): SocketRendezvous {
  if ('dir' in rendezvous) {
    if (typeof rendezvous.dir !== 'string' || rendezvous.dir.length === 0) throw badConfig('rendezvous.dir must be a non-empty path');
    return { dir: resolve(rendezvous.dir) };
  }
  if ('rootAddress' in rendezvous) {
    const root = parseRoot(rendezvous.rootAddress);
    return { rootAddress: formatAddress(root) };
  }
  throw badConfig('rendezvous must be { dir } or { rootAddress }');
}

function parseRoot(rootAddress: string): Address {
  let root: Address;
  try {
    root = parseAddress(rootAddress);
  } catch (cause) {
    throw badConfig(`rendezvous.rootAddress: ${(cause as Error).message}`, cause);
  }
  if (root.kind === 'inproc') throw badConfig(`rendezvous.rootAddress ${rootAddress} must be tcp:// or unix://`);
  // Every rank must know where to find rank 0 before it starts, so the port cannot be "any".
  if (root.kind === 'tcp' && root.port === 0) throw badConfig(`rendezvous.rootAddress ${rootAddress} needs a fixed port, not 0`);
  return root;
}

function chooseListenAddress(options: WorldCommunicatorOptions, rendezvous: SocketRendezvous, rank: number): string {
  const root = 'rootAddress' in rendezvous ? parseRoot(rendezvous.rootAddress) : undefined;
  if (root !== undefined && rank === 0) return formatAddress(root);
  const transport = options.transport ?? (root?.kind ?? (options.host !== undefined ? 'tcp' : 'unix'));
  if (transport === 'tcp') {
    const host = options.host
      ?? (root?.kind === 'tcp' && !isLoopback(root.host) ? hostname() : '127.0.0.1');
    return formatAddress({ kind: 'tcp', host, port: 0 });
  }
  if (transport !== 'unix') throw badConfig(`transport must be 'unix' or 'tcp', got ${String(transport)}`);
  // Sockets live beside the rendezvous: in its directory, or next to the root's socket.
  let path: string;
  if (root === undefined) path = join((rendezvous as { dir: string }).dir, `rank-${rank}.sock`);
  else if (root.kind === 'unix') path = `${root.path}-rank-${rank}`;
  else if (root.kind === 'tcp') path = join(tmpdir(), `hpckv-comm-${root.host}-${root.port}-rank-${rank}.sock`);
  else throw badConfig('rendezvous.rootAddress must be tcp:// or unix://');
  if (Buffer.byteLength(path) > UNIX_PATH_BYTES_MAX) {
    throw badConfig(`Unix socket path ${path} is longer than ${UNIX_PATH_BYTES_MAX} bytes: use a shorter directory or transport 'tcp'`);
  }
  return formatAddress({ kind: 'unix', path });
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

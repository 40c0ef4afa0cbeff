import { mkdir, rm, rmdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createWorldCommunicator } from '../core/comm/create-communicator.js';
import { detectLaunch } from '../core/comm/launch-env.js';
import type { Communicator } from '../core/comm/communicator.js';
import { ErrorCodes, errorToWire, HpckvError } from '../core/errors.js';
import { DEFAULT_PARTITION, parseGroupFile, writeGroupFile, type PartitionSpec } from '../core/group-file.js';
import { resolveLimits, type Limits } from '../core/limits.js';
import { formGroup } from '../core/group-formation.js';
import { formatKeyType, parseKeyType } from '../core/keys/key-type.js';
import { serverListenAddress } from '../core/rpc/listen-address.js';
import { AUTH_SCHEME } from '../core/rpc/auth-handshake.js';
import { authSecretDigest, readAuthSecretFile } from './auth-secret.js';
import { startServerRank } from './server-rank.js';

export interface ServeOptions {
  /** Directory shared by the group: rendezvous files, Unix sockets and group.json. */
  groupDir: string;
  /** Base data directory (each rank uses rank-<r>/ under it). */
  dataDir: string;
  service?: string;
  databases?: string[];
  transport?: 'unix' | 'tcp';
  /** Host to listen on for TCP. */
  host?: string;
  partition?: PartitionSpec;
  /** The store's key type, text form (core/keys/key-type.ts); default `bytes`. */
  keyType?: string;
  limits?: Partial<Limits>;
  /**
   * Rendezvous at rank 0's address (tcp://HOST:PORT reachable from every rank) instead of the
   * group directory: use it when ranks span hosts whose shared file system does not deliver
   * file-change events (NFS, Lustre).
   */
  rootAddress?: string;
  /** Milliseconds to wait for every rank at the rendezvous. */
  rendezvousTimeoutMs?: number;
  /**
   * A file holding the group's shared secret (16..1024 bytes; a trailing newline is dropped):
   * every rank must be given the same one. Clients then prove it on every connection; the group
   * file carries it, written readable by its owner only.
   */
  authSecretFile?: string;
}

export const GROUP_FILE_NAME = 'group.json';

/**
 * Identifies one launch, so rendezvous files of an earlier run in the same group directory are
 * never mistaken for this one's (hpckv's launcher, Open MPI, Slurm each name their job).
 */
function launchId(env: NodeJS.ProcessEnv): string {
  const id = env['HPCKV_LAUNCH_ID'] ?? env['PMIX_NAMESPACE'] ?? env['OMPI_MCA_ess_base_jobid']
    ?? (env['SLURM_JOB_ID'] !== undefined ? `${env['SLURM_JOB_ID']}.${env['SLURM_STEP_ID'] ?? '0'}` : undefined);
  return (id ?? 'default').replace(/[^A-Za-z0-9_.-]/g, '_');
}

/**
 * One server rank of a group, as `hpckv serve` runs it: rank and size from the launcher's
 * environment (hpckv launch, mpirun, srun), addresses exchanged through the group directory,
 * group.json written by rank 0, then serve until SIGTERM/SIGINT or a shutdown request.
 * Under hpckv's launcher a failure is also reported over IPC with its code, so the launcher
 * rejects with the rank's own error (HPCKV_ERR_GROUP_FILE, say), not a generic one.
 */
export async function serve(options: ServeOptions): Promise<void> {
  try {
    await serveRank(options);
  } catch (error) {
    await reportFailure(error);
    throw error;
  }
}

async function serveRank(options: ServeOptions): Promise<void> {
  const launch = detectLaunch();
  if (launch === null) {
    throw new HpckvError(ErrorCodes.BAD_CONFIG,
      'no rank/size in the environment: run under `hpckv launch`, mpirun or srun (or set HPCKV_RANK and HPCKV_SIZE)');
  }
  const groupDir = resolve(options.groupDir);
  await mkdir(groupDir, { recursive: true });
  const groupFile = join(groupDir, GROUP_FILE_NAME);
  // The previous run's group file names addresses nobody serves any more: a client attaching
  // during formation must find no file rather than that one. The new file appears whole, by
  // rename, once every rank listens.
  if (launch.rank === 0) await rm(groupFile, { force: true });
  const transport = options.transport ?? 'unix';
  const limits = resolveLimits(options.limits);
  const partition = options.partition ?? DEFAULT_PARTITION;
  const service = options.service ?? 'hpckv';
  const databases = options.databases ?? ['default'];
  const keyType = formatKeyType(parseKeyType(options.keyType ?? 'bytes'));
  const authSecret = options.authSecretFile === undefined ? undefined : await readAuthSecretFile(options.authSecretFile);
  const meeting = await meet(options, launch, groupDir, transport);
  const comm = meeting.comm;
  let server: Awaited<ReturnType<typeof startServerRank>>;
  try {
    // Ranks given different secrets (or some none) would form a group half its clients cannot use.
    const digests = await comm.allgather(authSecretDigest(authSecret));
    if (digests.some((digest) => digest !== digests[0])) {
      throw new HpckvError(ErrorCodes.BAD_CONFIG, 'the ranks were not all given the same authentication secret (--auth-secret-file)',
        { details: { ranksWithoutSecret: digests.filter((d) => d === 'none').length } });
    }
    server = await startServerRank({
      rank: launch.rank, size: launch.size, service, dataDir: resolve(options.dataDir), databases,
      listenAddress: serverListenAddress(transport, groupDir, launch.rank, options.host), limits, partition, epoch: 0,
      keyType, ...(authSecret === undefined ? {} : { authSecret }),
    });
  } catch (error) {
    // Leave the group at once: the other ranks see this one fail instead of waiting for it.
    await meeting.leave();
    throw error;
  }
  const stopOnSignal = (): void => { void server.stop(); };
  process.once('SIGTERM', stopOnSignal);
  process.once('SIGINT', stopOnSignal);
  // Started by hpckv's launcher: its IPC channel closing means the launcher is gone.
  if (process.channel !== undefined) {
    process.channel.unref();
    process.once('disconnect', stopOnSignal);
  }
  try {
    const group = await formGroup(comm, { address: server.address, databases }, {
      service, partition, epoch: 0, limits: options.limits ?? {}, keyType,
      ...(authSecret === undefined ? {} : { auth: { scheme: AUTH_SCHEME, secret: authSecret.toString('base64') } }),
    });
    // The partition spec came from the command line: check it as clients will before anyone relies on it.
    parseGroupFile(group, 'the group being formed');
    if (launch.rank === 0) await writeGroupFile(groupFile, group);
    // Nobody reports ready before the group file exists.
    await comm.barrier();
    await meeting.leave();
    process.stdout.write(`hpckv server rank ${launch.rank}/${launch.size} serving ${server.address}\n`);
    if (launch.rank === 0) process.stdout.write(`hpckv group of ${launch.size} servers ready; group file written: ${groupFile}\n`);
    process.send?.({ type: 'ready', rank: launch.rank, address: server.address, groupFile });
  } catch (error) {
    await server.stop();
    await meeting.leave();
    throw error;
  }
  await server.stopped;
  process.off('SIGTERM', stopOnSignal);
  process.off('SIGINT', stopOnSignal);
  process.off('disconnect', stopOnSignal);
}

/**
 * The ranks' meeting: a communicator over the group directory (or rank 0's address), and how to
 * leave it. Leaving closes it (each rank removes its own files) and then tries to remove the
 * launch's rendezvous directory: every rank tries after removing its files, so the last to leave
 * finds it empty and removes it, and no launch leaves an empty directory behind.
 */
async function meet(options: ServeOptions, launch: { rank: number; size: number }, groupDir: string,
  transport: 'unix' | 'tcp'): Promise<{ comm: Communicator; leave: () => Promise<void> }> {
  const dir = options.rootAddress === undefined ? join(groupDir, `rendezvous-${launchId(process.env)}`) : undefined;
  if (dir !== undefined) await mkdir(dir, { recursive: true });
  // ENOTEMPTY: another rank has not left yet, and will remove it.
  const removeDir = (): Promise<void> => (dir === undefined ? Promise.resolve() : rmdir(dir).catch(() => undefined));
  let comm: Communicator;
  try {
    comm = await createWorldCommunicator({
      rank: launch.rank, size: launch.size, rendezvous: dir === undefined ? { rootAddress: options.rootAddress! } : { dir }, transport,
      ...(options.host === undefined ? {} : { host: options.host }),
      timeoutMs: options.rendezvousTimeoutMs ?? 60_000,
    });
  } catch (error) {
    await removeDir();
    throw error;
  }
  const leave = async (): Promise<void> => {
    await comm.close().catch(() => undefined);
    await removeDir();
  };
  return { comm, leave };
}

/** Tells hpckv's launcher (when it started this process) why this rank failed, before the process exits. */
async function reportFailure(error: unknown): Promise<void> {
  if (process.send === undefined || !process.connected) return;
  await new Promise<void>((resolveSent) => {
    process.send!({ type: 'failed', error: errorToWire(error) }, undefined, {}, () => resolveSent());
  });
}

import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, HpckvError } from '../core/errors.js';
import { readGroupFile, type GroupFile, type PartitionSpec } from '../core/group-file.js';
import { parseKeyType } from '../core/keys/key-type.js';
import { resolveLimits, type Limits } from '../core/limits.js';
import { checkPartitionSpec } from '../core/partition-spec.js';
import { LaunchedRank, type RankExit } from './launched-rank.js';

export type { RankExit } from './launched-rank.js';

export interface LaunchOptions {
  /** Number of server processes. */
  servers: number;
  /** Directory of the group: group.json, sockets, and data/ with one folder per rank. */
  dir: string;
  transport?: 'unix' | 'tcp';
  /** The address TCP servers listen on and name in the group file (default 127.0.0.1). */
  host?: string;
  /**
   * A command the server processes are started under, which must exec node in place (keeping
   * the IPC channel): `['ip', 'netns', 'exec', NAME]` puts them in a network namespace.
   */
  commandPrefix?: readonly string[];
  service?: string;
  databases?: string[];
  partition?: PartitionSpec;
  /** The store's key type, text form (default `bytes`). */
  keyType?: string;
  limits?: Partial<Limits>;
  /** A file with the group's shared secret (see ServeOptions.authSecretFile); none: the group is open to anyone who can connect. */
  authSecretFile?: string;
  /** Where server output goes: 'inherit' (foreground use) or 'pipe' (kept for error reports). */
  output?: 'inherit' | 'pipe';
  /** Milliseconds to wait for every server to report ready. */
  readyTimeoutMs?: number;
}

export interface LocalGroup {
  readonly groupFile: string;
  readonly group: GroupFile;
  readonly processes: readonly ChildProcess[];
  /**
   * Each server's end, by rank: settles when that process has exited, saying how and whether
   * stop() asked it to. Reading it holds this process open until the servers exit.
   */
  readonly rankExits: ReadonlyArray<Promise<RankExit>>;
  /**
   * Settles when every server process has exited (for any reason). Reading it holds this process
   * open until then (as `hpckv launch` does, waiting for Ctrl-C).
   */
  readonly exited: Promise<void>;
  /** SIGTERM to every server still running (they drain and close their stores), then wait for every exit, holding this process open until then. */
  stop(): Promise<void>;
}

/** How long the ranks of a failed launch get to exit by themselves before they are stopped. */
const FAILED_LAUNCH_GRACE_MS = 3000;

/** The CLI entry point every server process runs (`hpckv serve`). */
const HPCKV_BIN = fileURLToPath(new URL('../bin/hpckv.js', import.meta.url));

/**
 * Embedded/local group: spawns N `hpckv serve` processes on this machine with hpckv's own rank
 * variables, the same code path mpirun/srun take, and resolves once all report ready. A launch
 * that fails rejects with the error of the rank that failed first on its own (its peers then
 * fail only because it is gone), with that rank's code: a data directory made for another
 * layout is HPCKV_ERR_GROUP_FILE, as when the rank is started by hand.
 */
export async function launchLocalGroup(options: LaunchOptions): Promise<LocalGroup> {
  checkLaunchOptions(options);
  const dir = resolve(options.dir);
  await mkdir(dir, { recursive: true });
  const launchId = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const command = [...(options.commandPrefix ?? []), process.execPath, '--no-node-snapshot', HPCKV_BIN, ...serveArgs(options, dir)];
  const ranks = Array.from({ length: options.servers }, (_, rank) => new LaunchedRank(rank, command,
    { ...process.env, HPCKV_RANK: String(rank), HPCKV_SIZE: String(options.servers), HPCKV_LAUNCH_ID: launchId }, options.output ?? 'pipe'));
  const exits = ranks.map((rank) => rank.exit);
  const stop = async (): Promise<void> => {
    for (const rank of ranks) rank.stop();
    await Promise.all(exits);
  };
  try {
    await allReady(ranks, options.readyTimeoutMs ?? 60_000);
  } catch (error) {
    // The other ranks fail too once a peer is gone; give them a moment to say why on their own
    // (the root cause may be in another rank's words) before stopping whoever is left.
    let grace: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(exits), new Promise<void>((resolve) => { grace = setTimeout(resolve, FAILED_LAUNCH_GRACE_MS); })]);
    clearTimeout(grace);
    await stop();
    throw launchFailure(ranks, error);
  }
  // The IPC channel stays open, unreferenced, as a lifeline: if this process dies, even by
  // SIGKILL, the servers see it close and shut down instead of running on as orphans. Nor do the
  // servers hold this process open: a script that ends without stop() exits (it used to hang),
  // and its servers, their lifeline closed, drain and close their stores as on stop().
  for (const rank of ranks) {
    rank.child.channel?.unref();
    rank.letGo();
  }
  const groupFile = join(dir, 'group.json');
  const exited = Promise.all(exits).then(() => undefined);
  const holdOpen = (): void => { for (const rank of ranks) rank.holdOpen(); };
  return {
    groupFile, group: await readGroupFile(groupFile), processes: ranks.map((rank) => rank.child), stop,
    get rankExits() {
      holdOpen();
      return exits;
    },
    get exited() {
      holdOpen();
      return exited;
    },
  };
}

/** What a launch is given is checked here, once, before any server starts (each would refuse it on its own). */
function checkLaunchOptions(options: LaunchOptions): void {
  if (!Number.isInteger(options.servers) || options.servers < 1 || options.servers > 1024) {
    throw new HpckvError(ErrorCodes.BAD_CONFIG, `servers must be an integer in 1..1024, got ${String(options.servers)}`);
  }
  resolveLimits(options.limits);
  if (options.keyType !== undefined) parseKeyType(options.keyType);
  if (options.partition !== undefined) checkPartitionSpec(options.partition, options.servers, options.keyType);
}

function serveArgs(options: LaunchOptions, dir: string): string[] {
  const args = ['serve', '--group-dir', dir, '--data', join(dir, 'data'),
    '--transport', options.transport ?? 'unix', '--service', options.service ?? 'hpckv',
    '--databases', (options.databases ?? ['default']).join(',')];
  if (options.host !== undefined) args.push('--host', options.host);
  if (options.partition !== undefined) args.push('--partition', JSON.stringify(options.partition));
  if (options.keyType !== undefined) args.push('--key-type', options.keyType);
  if (options.limits !== undefined) args.push('--limits', JSON.stringify(options.limits));
  if (options.authSecretFile !== undefined) args.push('--auth-secret-file', resolve(options.authSecretFile));
  return args;
}

async function allReady(ranks: readonly LaunchedRank[], timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(ranks.map((rank) => rank.ready)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HpckvError(ErrorCodes.TIMEOUT,
        `servers not ready after ${timeoutMs} ms`, { retryable: false })), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The error a failed launch rejects with: the first rank's own report that is not about a lost
 * peer (HPCKV_ERR_COMM is what the others say once it is gone), with its code and details, and
 * what every rank wrote on stderr (when piped) so nothing it said is lost.
 */
function launchFailure(ranks: readonly LaunchedRank[], error: unknown): HpckvError {
  const reported = ranks.filter((rank) => rank.failure !== undefined);
  const cause = reported.find((rank) => rank.failure!.code !== ErrorCodes.COMM) ?? reported[0];
  const said = ranks.filter((rank) => rank.stderrTail !== '').map((rank) => `rank ${rank.rank}: ${rank.stderrTail}`);
  const root = cause?.failure ?? (error instanceof HpckvError ? error : undefined);
  if (root === undefined) throw error;
  const first = cause === undefined ? root.message.split('\n')[0]! : `server rank ${cause.rank}: ${root.message}`;
  return new HpckvError(root.code, said.length === 0 ? first : `${first}; the servers said:\n${said.join('\n')}`, {
    retryable: false, cause: error, details: { ...root.details, ...(cause === undefined ? {} : { rank: cause.rank }) },
  });
}

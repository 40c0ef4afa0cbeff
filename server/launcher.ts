import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, HpckvError } from '../core/errors.js';
import { readGroupFile, type GroupFile, type PartitionSpec } from '../core/group-file.js';
import type { Limits } from '../core/limits.js';
import { checkPartitionSpec } from '../core/partition-spec.js';

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
  /** Settles when every server process has exited (for any reason). */
  readonly exited: Promise<void>;
  /** SIGTERM to every server (they drain and close their stores), then wait for exit. */
  stop(): Promise<void>;
}

/** How long the ranks of a failed launch get to exit by themselves before they are stopped. */
const FAILED_LAUNCH_GRACE_MS = 3000;

/** The CLI entry point every server process runs (`hpckv serve`). */
const HPCKV_BIN = fileURLToPath(new URL('../bin/hpckv.js', import.meta.url));

/**
 * Embedded/local group: spawns N `hpckv serve` processes on this machine with hpckv's own rank
 * variables, the same code path mpirun/srun take, and resolves once all report ready.
 */
export async function launchLocalGroup(options: LaunchOptions): Promise<LocalGroup> {
  if (!Number.isInteger(options.servers) || options.servers < 1 || options.servers > 1024) {
    throw new HpckvError(ErrorCodes.BAD_CONFIG, `servers must be an integer in 1..1024, got ${String(options.servers)}`);
  }
  if (options.partition !== undefined) checkPartitionSpec(options.partition, options.servers, options.keyType);
  const dir = resolve(options.dir);
  await mkdir(dir, { recursive: true });
  const launchId = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const args = ['serve', '--group-dir', dir, '--data', join(dir, 'data'),
    '--transport', options.transport ?? 'unix', '--service', options.service ?? 'hpckv',
    '--databases', (options.databases ?? ['default']).join(',')];
  if (options.host !== undefined) args.push('--host', options.host);
  if (options.partition !== undefined) args.push('--partition', JSON.stringify(options.partition));
  if (options.keyType !== undefined) args.push('--key-type', options.keyType);
  if (options.limits !== undefined) args.push('--limits', JSON.stringify(options.limits));
  if (options.authSecretFile !== undefined) args.push('--auth-secret-file', resolve(options.authSecretFile));
  const output = options.output ?? 'pipe';
  const processes: ChildProcess[] = [];
  const stderrTails: string[] = [];
  const exits: Array<Promise<void>> = [];
  const readies: Array<Promise<void>> = [];
  for (let rank = 0; rank < options.servers; rank++) {
    const [command, ...prefixArgs] = [...(options.commandPrefix ?? []), process.execPath];
    const child = spawn(command!, [...prefixArgs, '--no-node-snapshot', HPCKV_BIN, ...args], {
      env: { ...process.env, HPCKV_RANK: String(rank), HPCKV_SIZE: String(options.servers), HPCKV_LAUNCH_ID: launchId },
      stdio: ['ignore', output, output, 'ipc'],
    });
    processes.push(child);
    stderrTails[rank] = '';
    child.stderr?.on('data', (chunk: Buffer) => { stderrTails[rank] = (stderrTails[rank] + chunk.toString()).slice(-4000); });
    child.stdout?.resume();
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
      // 'close', not 'exit': by then its last words on stderr have been read.
      child.once('close', (code, signal) => resolveExit({ code, signal }));
    });
    exits.push(exited.then(() => undefined));
    readies.push(new Promise<void>((resolveReady, reject) => {
      child.on('message', (message: unknown) => {
        if (typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'ready') resolveReady();
      });
      void exited.then(({ code, signal }) => reject(new HpckvError(ErrorCodes.CONNECT_FAILED,
        `server rank ${rank} exited (code ${code}, signal ${signal}) before it was ready` +
        (stderrTails[rank] ? `:\n${stderrTails[rank]}` : ''), { retryable: false, details: { rank } })));
    }));
  }
  const stop = async (): Promise<void> => {
    for (const child of processes) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.all(exits);
  };
  try {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeoutMs = options.readyTimeoutMs ?? 60_000;
    await Promise.race([
      Promise.all(readies),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new HpckvError(ErrorCodes.TIMEOUT,
          `servers not ready after ${timeoutMs} ms`, { retryable: false })), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  } catch (error) {
    // The other ranks fail too once a peer is gone; give them a moment to say why on their own
    // (the root cause may be in another rank's words) before stopping whoever is left.
    let grace: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(exits), new Promise<void>((resolve) => { grace = setTimeout(resolve, FAILED_LAUNCH_GRACE_MS); })]);
    clearTimeout(grace);
    await stop();
    // One rank's failure makes the others fail too (their peer is gone); report what every rank
    // said, so the root cause (say, a data directory made for another layout) is in the message.
    const said = stderrTails.map((tail, rank) => (tail.trim() === '' ? '' : `rank ${rank}: ${tail.trim()}`)).filter((line) => line !== '');
    if (said.length === 0) throw error;
    throw new HpckvError(ErrorCodes.CONNECT_FAILED, `${(error as Error).message.split('\n')[0]}; the servers said:\n${said.join('\n')}`,
      { retryable: false, cause: error });
  }
  // The IPC channel stays open, unreferenced, as a lifeline: if this process dies, even by
  // SIGKILL, the servers see it close and shut down instead of running on as orphans.
  for (const child of processes) child.channel?.unref();
  const groupFile = join(dir, 'group.json');
  return { groupFile, group: await readGroupFile(groupFile), processes, exited: Promise.all(exits).then(() => undefined), stop };
}

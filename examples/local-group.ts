import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, launchLocalGroup, type LaunchOptions, type LocalGroup } from '../index.js';

/** A workload's local group, a client of it, and a temporary directory for its other stores (a bench's anchors). */
export interface BenchGroup {
  group: LocalGroup;
  client: Client;
  /** Removed with the group; the group's own files are in its `group` folder, the rest is the caller's. */
  dir: string;
}

/**
 * Runs `work` on a fresh local group in a temporary directory and always cleans up afterwards:
 * the servers are asked to shut down and waited for, the client closed and the directory
 * removed, whether `work` returned or threw.
 */
export async function withLocalGroup<T>(name: string, options: Omit<LaunchOptions, 'dir'>, work: (bench: BenchGroup) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `hpckv-${name}-`));
  try {
    const group = await launchLocalGroup({ ...options, dir: join(dir, 'group') });
    let client: Client | undefined;
    try {
      client = await Client.open(group.groupFile);
      return await work({ group, client, dir });
    } finally {
      // A server that did not take the shutdown request (or no client could open) is stopped by signal.
      await client?.shutdownServers().catch(() => undefined);
      await client?.close();
      await group.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

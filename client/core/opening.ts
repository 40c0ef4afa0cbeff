import type { Communicator } from '../../core/comm/communicator.js';
import { groupAuthSecret, parseGroupFile, readGroupFile, type GroupFile } from '../../core/group-file.js';
import { resolveLimits, type Limits } from '../../core/limits.js';
import { checkAuthSecret } from '../../core/rpc/auth-handshake.js';
import type { ClientOptions } from './options.js';

/**
 * What a client opens with, apart from the Client's factories so they stay one line each: the
 * group as every rank of a communicator receives it, and the limits and secret a group and the
 * caller's options come to. Nothing connects here; connections open on first use.
 */

/**
 * Collective over `comm`: the `root` rank passes the group (or its file's path), every rank
 * receives it, checked as a group file (Client.fromCommunicator).
 */
export async function shareGroup(comm: Communicator, root: number, group: GroupFile | string | undefined): Promise<GroupFile> {
  let mine: GroupFile | undefined;
  if (comm.rank === root) {
    if (group === undefined) throw new TypeError('the root rank must pass the group or its file path');
    mine = typeof group === 'string' ? await readGroupFile(group) : group;
  }
  const shared = await comm.bcast<GroupFile | undefined>(root, mine);
  return parseGroupFile(shared, `group from rank ${root}`);
}

/** The client's limits (the group's, overlaid by the caller's) and the secret it proves, if any. */
export function openSettings(group: GroupFile, options: ClientOptions): { limits: Limits; authSecret: Uint8Array | undefined } {
  const authSecret = options.authSecret === undefined ? groupAuthSecret(group) : checkAuthSecret(options.authSecret, 'ClientOptions.authSecret');
  return { limits: resolveLimits(group.limits, options.limits), authSecret };
}

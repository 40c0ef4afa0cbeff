import { resolve } from 'node:path';
import { ErrorCodes, HpckvError } from '../core/errors.js';
import { groupAuthSecret, readGroupFile } from '../core/group-file.js';
import { resolveLimits } from '../core/limits.js';
import { startServerRank } from './server-rank.js';

export interface RejoinOptions {
  /** The group file the rank belongs to (written when the group formed). */
  groupFile: string;
  rank: number;
  /** The same base data directory the rank used before (its stores are under rank-<r>/). */
  dataDir: string;
}

/**
 * One rank of an existing group started again (after a crash or a kill): no rendezvous, since
 * the group file already says who is where. It serves at the address the group file gives it,
 * with the group's service, key type, partitioning and limits, on its old stores; the data's
 * recorded identity must match (a store made for another key type, partitioning or server
 * count is refused with HPCKV_ERR_GROUP_FILE naming the field, as is a missing or corrupt group
 * file; a rank the group file does not have is HPCKV_ERR_BAD_CONFIG). Clients reconnect on their
 * next call.
 */
export async function rejoin(options: RejoinOptions): Promise<void> {
  const group = await readGroupFile(options.groupFile);
  const me = group.servers[options.rank];
  if (!Number.isSafeInteger(options.rank) || me === undefined) {
    throw new HpckvError(ErrorCodes.BAD_CONFIG, `group file ${options.groupFile} has ranks 0..${group.servers.length - 1}, not ${options.rank}`);
  }
  const server = await startServerRank({
    rank: options.rank, size: group.servers.length, service: group.service, dataDir: resolve(options.dataDir), databases: me.databases,
    listenAddress: me.address, limits: resolveLimits(group.limits), partition: group.partition, epoch: group.epoch, keyType: group.keyType,
    ...(group.auth === undefined ? {} : { authSecret: groupAuthSecret(group)! }),
  });
  if (server.address !== me.address) {
    await server.stop();
    throw new HpckvError(ErrorCodes.BAD_CONFIG, `rank ${options.rank} could not serve at ${me.address} again (got ${server.address})`);
  }
  const stopOnSignal = (): void => { void server.stop(); };
  process.once('SIGTERM', stopOnSignal);
  process.once('SIGINT', stopOnSignal);
  process.stdout.write(`hpckv server rank ${options.rank}/${group.servers.length} serving ${server.address} again\n`);
  process.send?.({ type: 'ready', rank: options.rank, address: server.address, groupFile: options.groupFile });
  await server.stopped;
  process.off('SIGTERM', stopOnSignal);
  process.off('SIGINT', stopOnSignal);
}

import { hostname } from 'node:os';
import type { Communicator } from './comm/communicator.js';
import { GROUP_FILE_FORMAT, type GroupAuth, type GroupFile, type GroupServer, type PartitionSpec } from './group-file.js';
import type { Limits } from './limits.js';

export interface GroupDescription {
  service: string;
  partition: PartitionSpec;
  epoch: number;
  /** Limits that differ from the defaults, recorded so every client applies the same. */
  limits: Partial<Limits>;
  /** The store's key type, text form (default `bytes`). */
  keyType?: string;
  /** The shared secret every connection must prove, when the group has one. */
  auth?: GroupAuth;
}

/**
 * Collective over the servers' communicator: every server contributes its address and
 * databases, and every server returns the same group file (rank i of the communicator is
 * server rank i).
 */
export async function formGroup(servers: Communicator, self: { address: string; databases: string[] },
  description: GroupDescription): Promise<GroupFile> {
  const mine: GroupServer = {
    rank: servers.rank, address: self.address, databases: self.databases, host: hostname(), pid: process.pid,
  };
  const all = await servers.allgather(mine);
  return {
    format: GROUP_FILE_FORMAT,
    service: description.service,
    keyType: description.keyType ?? 'bytes',
    partition: description.partition,
    epoch: description.epoch,
    limits: description.limits,
    servers: all.map((server, rank) => ({ ...server, rank })),
    createdAt: new Date().toISOString(),
    ...(description.auth === undefined ? {} : { auth: description.auth }),
  };
}

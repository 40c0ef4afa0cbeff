import { DEFAULT_PARTITION, GROUP_FILE_FORMAT, type GroupFile } from '../../core/group-file.js';
import { resolveLimits } from '../../core/limits.js';
import { startServerRank, type RunningServer } from '../../server/server-rank.js';

export interface InprocServers {
  servers: RunningServer[];
  /** The group file clients attach with (Client.fromGroup). */
  group: GroupFile;
  stop(): Promise<void>;
}

/** `ranks` server ranks in this process over the in-process transport (hash ring, one `default` database, stores under `dir`). */
export async function startInprocServers(dir: string, service: string, ranks = 2): Promise<InprocServers> {
  const limits = resolveLimits();
  const servers: RunningServer[] = [];
  for (let rank = 0; rank < ranks; rank++) {
    servers.push(await startServerRank({
      rank, size: ranks, service, dataDir: dir, databases: ['default'],
      listenAddress: `inproc://${dir}/server-${rank}`, limits, partition: DEFAULT_PARTITION, epoch: 0,
    }));
  }
  const group: GroupFile = {
    format: GROUP_FILE_FORMAT, service, keyType: 'bytes', partition: DEFAULT_PARTITION, epoch: 0,
    limits: {}, servers: servers.map((s) => ({ rank: s.rank, address: s.address, databases: ['default'] })),
    createdAt: new Date().toISOString(),
  };
  return { servers, group, stop: async () => { for (const server of servers) await server.stop(); } };
}

import { join } from 'node:path';
import type { PartitionSpec } from '../core/group-file.js';
import type { Limits } from '../core/limits.js';
import { RpcServer } from '../core/rpc/rpc-server.js';
import { checkDataIdentity } from './data-identity.js';
import { Provider } from './provider.js';

export interface ServerRankOptions {
  rank: number;
  /** Servers in the group. */
  size: number;
  service: string;
  /** Base data directory; this rank keeps its stores under `<dataDir>/rank-<rank>`. */
  dataDir: string;
  databases: string[];
  /** Where to listen: unix:///path, tcp://host:0 (any port) or inproc://name. */
  listenAddress: string;
  limits: Limits;
  partition: PartitionSpec;
  epoch: number;
}

export interface RunningServer {
  readonly rank: number;
  /** The address clients connect to. */
  readonly address: string;
  readonly provider: Provider;
  /** Drains in-flight requests, closes the stores. Safe to call more than once. */
  stop(): Promise<void>;
  /** Settles once the server has stopped (after stop() or a client's shutdown request). */
  readonly stopped: Promise<void>;
}

/** Opens this rank's stores and serves them on one address. */
export async function startServerRank(options: ServerRankOptions): Promise<RunningServer> {
  const dataDir = join(options.dataDir, `rank-${options.rank}`);
  await checkDataIdentity(dataDir, {
    service: options.service, keyType: 'bytes', partition: options.partition, serverCount: options.size, rank: options.rank,
  });
  const provider = await Provider.open({
    dataDir, databases: options.databases, limits: options.limits, rank: options.rank,
    service: options.service, epoch: options.epoch,
  });
  let stopping: Promise<void> | undefined;
  let markStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => { markStopped = resolve; });
  let rpc: RpcServer | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await rpc?.close(options.limits.shutdownDrainMs);
      await provider.close();
      markStopped();
    })();
    return stopping;
  };
  try {
    rpc = await RpcServer.listen(options.listenAddress, options.limits, (op, body) => {
      if (op === 'shutdown') {
        // Answer first; the drain then lets every other request in flight finish.
        setImmediate(() => void stop());
        return null;
      }
      return provider.handle(op, body);
    });
  } catch (error) {
    await provider.close();
    throw error;
  }
  return { rank: options.rank, address: rpc.address, provider, stop, stopped };
}

import type { GroupFile } from '../core/group-file.js';
import type { Limits } from '../core/limits.js';
import { RpcClient } from '../core/rpc/rpc-client.js';

/**
 * One connection per server, opened on first use and opened again on the next use after it
 * was lost (a restarted server is picked up without restarting the client).
 */
export class ServerConnections {
  private readonly group: GroupFile;
  private readonly limits: Limits;
  private readonly connections: Array<Promise<RpcClient> | undefined>;
  private closed = false;

  constructor(group: GroupFile, limits: Limits) {
    this.group = group;
    this.limits = limits;
    this.connections = group.servers.map(() => undefined);
  }

  get(rank: number): Promise<RpcClient> {
    const existing = this.connections[rank];
    if (existing !== undefined) return existing;
    const server = this.group.servers[rank];
    if (server === undefined) throw new RangeError(`no server of rank ${rank}`);
    const opening = RpcClient.connect(server.address, this.limits);
    this.connections[rank] = opening;
    opening.then(
      (client) => client.onClose(() => {
        if (this.connections[rank] === opening) this.connections[rank] = undefined;
      }),
      () => { if (this.connections[rank] === opening) this.connections[rank] = undefined; },
    );
    return opening;
  }

  async call(rank: number, op: string, body: unknown, options: { timeoutMs?: number; signal?: AbortSignal }): Promise<unknown> {
    if (this.closed) throw new TypeError('client is closed');
    const connection = await this.get(rank);
    return connection.call(op, body, options);
  }

  async close(): Promise<void> {
    this.closed = true;
    const open = this.connections.splice(0).filter((c): c is Promise<RpcClient> => c !== undefined);
    const clients = await Promise.allSettled(open);
    for (const result of clients) if (result.status === 'fulfilled') result.value.close();
  }
}

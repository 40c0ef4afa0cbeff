import type { GroupFile } from '../core/group-file.js';
import type { Limits } from '../core/limits.js';
import { RpcClient, type CallOptions } from '../core/rpc/rpc-client.js';

/**
 * One connection per server, opened on first use and opened again on the next use after it
 * was lost (a restarted server is picked up without restarting the client).
 */
/** Runs on every new connection before it is used (the Client installs its back channel here). */
export type ConnectionSetup = (connection: RpcClient, rank: number) => Promise<void> | void;

export class ServerConnections {
  private readonly group: GroupFile;
  private readonly limits: Limits;
  private readonly setup: ConnectionSetup | undefined;
  private readonly connections: Array<Promise<RpcClient> | undefined>;
  /** Connections already open, so a call on them costs no extra promise turn. */
  private readonly open: Array<RpcClient | undefined>;
  private closed = false;
  /** Proved on every new connection when the group has a shared secret. */
  private readonly authSecret: Uint8Array | undefined;

  constructor(group: GroupFile, limits: Limits, setup?: ConnectionSetup, authSecret?: Uint8Array) {
    this.group = group;
    this.limits = limits;
    this.setup = setup;
    this.authSecret = authSecret;
    this.connections = group.servers.map(() => undefined);
    this.open = group.servers.map(() => undefined);
  }

  get(rank: number): Promise<RpcClient> {
    const existing = this.connections[rank];
    if (existing !== undefined) return existing;
    const server = this.group.servers[rank];
    if (server === undefined) throw new RangeError(`no server of rank ${rank}`);
    const setup = this.setup;
    const opening = RpcClient.connect(server.address, this.limits, this.authSecret === undefined ? {} : { authSecret: this.authSecret }).then(async (client) => {
      if (setup === undefined) return client;
      try {
        await setup(client, rank);
      } catch (error) {
        client.close();
        throw error;
      }
      return client;
    });
    this.connections[rank] = opening;
    opening.then(
      (client) => {
        if (this.connections[rank] === opening) this.open[rank] = client;
        client.onClose(() => {
          if (this.connections[rank] === opening) {
            this.connections[rank] = undefined;
            this.open[rank] = undefined;
          }
        });
      },
      () => { if (this.connections[rank] === opening) this.connections[rank] = undefined; },
    );
    return opening;
  }

  call(rank: number, op: string, body: unknown, options: CallOptions): Promise<unknown> {
    if (this.closed) return Promise.reject(new TypeError('client is closed'));
    const ready = this.open[rank];
    if (ready !== undefined && !ready.isClosed) return ready.call(op, body, options);
    return this.get(rank).then((connection) => connection.call(op, body, options));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.open.fill(undefined);
    const opening = this.connections.splice(0).filter((c): c is Promise<RpcClient> => c !== undefined);
    const clients = await Promise.allSettled(opening);
    for (const result of clients) if (result.status === 'fulfilled') result.value.close();
  }
}

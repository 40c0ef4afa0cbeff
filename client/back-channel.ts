import type { ProcDoneNotice } from '../core/protocol/procedure-messages.js';
import { clientOp, type BackChannelOpName, type ValidBackChannelRequests } from '../core/protocol/op-table.js';
import type { RpcClient } from '../core/rpc/rpc-client.js';
import type { ClientCore } from './core/client-core.js';
import { RegionCompletions } from './region-handle.js';
import { RegionOps } from './region-ops.js';
import { RegionRegistry } from './region-registry.js';
import { ServerNotices } from './server-notices.js';

/**
 * What servers ask of this client over its connections (the back channel): pulls from and
 * pushes into its registered regions, and the notices that a region operation or a procedure
 * job ended. Kept apart from the calls the client makes, so every connection is set up the same
 * way however it was opened (first use, or again after it was lost). The region operations are
 * built here too: they start on the core's connections and end by this channel's notices.
 */
export class BackChannel {
  readonly registry = new RegionRegistry();
  readonly completions = new RegionCompletions();
  readonly procedureNotices = new ServerNotices<ProcDoneNotice>();
  #attaching: Promise<void> | undefined;
  readonly #services: { readonly [Op in BackChannelOpName]: (request: ValidBackChannelRequests[Op], rank: number) => unknown } = {
    regionRead: (request) => this.registry.serve('regionRead', request),
    regionWrite: (request) => this.registry.serve('regionWrite', request),
    regionDone: (notice, rank) => this.completions.notice(rank, notice),
    procDone: (notice, rank) => {
      this.procedureNotices.deliver(rank, notice.job, notice);
      return null;
    },
  };

  /** Every connection answers its server's pulls, pushes and completion notices (ServerConnections' setup). */
  async serve(connection: RpcClient, rank: number): Promise<void> {
    // Back-channel requests route by the op table (core/protocol/op-table.ts): its entry checks
    // the body, and the op's service here gets the checked request.
    connection.serve((op, body) => {
      const request = clientOp(op).validate(body);
      return (this.#services[op as BackChannelOpName] as (request: unknown, rank: number) => unknown)(request, rank);
    });
    connection.onClose((error) => {
      this.completions.lost(rank, error);
      this.procedureNotices.lost(rank, error);
    });
    if (this.#attaching !== undefined) await connection.call('regionAttach', { owner: this.registry.owner });
  }

  /** Tells every server that this client's connection serves its regions (once; reconnects attach again). */
  attachOwner(core: ClientCore): Promise<void> {
    this.#attaching ??= Promise.all(core.router.ranks.map(async (rank) => {
      const connection = await core.connections.get(rank);
      await connection.call('regionAttach', { owner: this.registry.owner });
    })).then(() => undefined);
    return this.#attaching;
  }

  /** The region operations over `core`, their regions served and their completions noticed here. */
  regionOps(core: ClientCore): RegionOps {
    return new RegionOps({
      limits: core.limits, router: core.router,
      registry: this.registry, completions: this.completions,
      call: (rank, op, body, options) => core.call(rank, op, body, options),
      attachOwner: () => this.attachOwner(core),
      decodeKey: (bytes) => core.decodeKey(bytes),
    });
  }
}

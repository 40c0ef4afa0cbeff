import { ErrorCodes, HpckvError, isHpckvError } from '../core/errors.js';
import type { ProcDoneNotice } from '../core/protocol/procedure-messages.js';
import { checkProcedureSpec, procedureHash, type ProcedureSpec } from '../core/procedure-spec.js';
import { DEFAULT_DATABASE } from '../core/protocol/messages.js';
import type { ClientCore } from './core/client-core.js';
import type { ExecuteOptions } from './core/options.js';
import { executeRequest, ProcedureHandle, type ProcedureHost } from './procedure-handle.js';
import type { RegionOps } from './region-ops.js';
import type { ServerNotices } from './server-notices.js';

/**
 * Starts a procedure on the servers of its range (Client.execute): checks the spec, starts one
 * job per server (sending the procedure's body only to a server that does not know it yet) and
 * hands the jobs to a ProcedureHandle, which follows them. The glue between the client core and
 * client/procedure-handle.ts, apart from the Client so the facade only forwards.
 */
export async function startProcedure(core: ClientCore, notices: ServerNotices<ProcDoneNotice>, regionOps: RegionOps,
  spec: ProcedureSpec, options: ExecuteOptions): Promise<ProcedureHandle> {
  const checked = checkProcedureSpec(spec);
  const hash = procedureHash(checked);
  const range = core.rangeBounds(options);
  const reverse = options.reverse === true;
  const request = executeRequest(options.db ?? DEFAULT_DATABASE, hash, range, reverse, options.args);
  if (options.scanEntriesMax !== undefined) request.scanEntriesMax = options.scanEntriesMax;
  if (options.resultBytesMax !== undefined) request.resultBytesMax = options.resultBytesMax;
  const host = procedureHost(core, notices, checked);
  if (options.into !== undefined && checked.kind === 'reduce') {
    throw new HpckvError(ErrorCodes.BAD_REQUEST, 'into: a reduce gives one value, not entries to write into a region');
  }
  const into = options.into === undefined ? undefined : await regionOps.intoRegion(options.into);
  try {
    const parts = await Promise.all(core.router.rangeServers(range).map(async (rank) => ({ rank, job: await host.execute(rank, request), request })));
    return new ProcedureHandle(host, checked, { reverse, args: request.args }, parts, into);
  } catch (error) {
    into?.release();
    throw error;
  }
}

function procedureHost(core: ClientCore, notices: ServerNotices<ProcDoneNotice>, spec: ProcedureSpec): ProcedureHost {
  return {
    limits: core.limits, notices,
    call: (rank, op, body, options) => core.call(rank, op, body, options),
    decodeKey: (bytes) => core.decodeKey(bytes),
    execute: async (rank, request) => {
      try {
        return (await core.call(rank, 'procExecute', request, {})).job;
      } catch (error) {
        if (!isHpckvError(error, ErrorCodes.UNKNOWN_PROCEDURE)) throw error;
        // The server has not seen this procedure (or evicted it): its body travels once.
        await core.call(rank, 'procRegister', { spec }, {});
        return (await core.call(rank, 'procExecute', request, {})).job;
      }
    },
  };
}

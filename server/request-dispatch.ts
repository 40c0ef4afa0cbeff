import { ErrorCodes, HpckvError } from '../core/errors.js';
import { serverOp, type ServerService, type ServiceOps, type ValidRequests } from '../core/protocol/op-table.js';
import type { ValidationContext } from '../core/protocol/validate/request-fields.js';

/**
 * The one place a request turns into work: its op's entry in the protocol table
 * (core/protocol/op-table.ts) names the service that answers it and the check its body must
 * pass. Unknown ops, test-only ops on a server without test hooks and requests reaching a
 * closing server are refused here, before any service sees them; a service receives only
 * checked requests.
 */

/** How a service answers a checked request of one of its ops; `connectionId` is the connection it came on. */
export type ServiceAnswer<Service extends ServerService> =
  <Op extends ServiceOps<Service>>(op: Op, request: ValidRequests[Op], connectionId: number) => unknown;

export interface DispatchOptions {
  rank: number;
  /** Whether test-only ops (HPCKV_TEST_HOOKS=1) are answered. */
  testHooks: boolean;
  /** What request checks ask: the limits and which databases this server owns. */
  validation: ValidationContext;
  /** True once the server began to close: every request is then HPCKV_ERR_SHUTTING_DOWN. */
  closing(): boolean;
  /** The services that answer; one left out answers nothing (UNKNOWN_OP), as on a bare Provider. */
  services: { readonly [Service in Exclude<ServerService, 'process'>]?: ServiceAnswer<Service> }
    & { readonly process?: () => null };
}

/** The request handler of one server: `(op, body, connectionId)` straight off the wire to a reply or a typed error. */
export function createRequestDispatch(options: DispatchOptions): (op: unknown, body: unknown, connectionId: number) => unknown {
  const { rank, testHooks, validation, closing, services } = options;
  return (op, body, connectionId) => {
    const spec = serverOp(op);
    const name = op as keyof ValidRequests;
    if (spec.testOnly === true && !testHooks) {
      throw new HpckvError(ErrorCodes.UNKNOWN_OP, `${name} needs a server started with HPCKV_TEST_HOOKS=1`, { details: { op: name } });
    }
    const answer = services[spec.service];
    if (answer === undefined) {
      throw new HpckvError(ErrorCodes.UNKNOWN_OP, `operation "${name}" is not answered here (${spec.service} runs in the server process)`,
        { details: { op: name } });
    }
    if (spec.service !== 'process' && closing()) {
      throw new HpckvError(ErrorCodes.SHUTTING_DOWN, `server rank ${rank} is shutting down`, { details: { rank } });
    }
    const request = spec.validate(body, validation);
    // The entry and the service were found by the same name, so the request is the service's own kind.
    return (answer as (op: string, request: unknown, connectionId: number) => unknown)(name, request, connectionId);
  };
}

import type { Communicator } from '../core/comm/communicator.js';
import { errorFromWire, errorToWire, ErrorCodes, HpckvError, isHpckvError, type WireError } from '../core/errors.js';

/**
 * Collective over `comm`, after a start-up step only some ranks take (a facade's server starting
 * on its ranks): every rank learns whether any rank failed, and if one did every rank rejects with
 * that rank's own code, message and details (plus `failedRank`). So a client-only rank sees the
 * `HPCKV_ERR_GROUP_FILE` of a store made for another layout, as the server rank that met it does,
 * instead of a generic code or a wait for peers that will never come. A failure that is not an
 * `HpckvError` (the file system refusing `dbPath`) is `HPCKV_ERR_BAD_CONFIG`.
 *
 * `failure` is this rank's error, or undefined when its step succeeded (or it took none). The
 * error thrown keeps it as `cause` on the rank that failed; the others get the rebuilt error.
 */
export async function shareStartFailure(comm: Communicator, failure: unknown, what: string): Promise<void> {
  const mine: WireError | null = failure === undefined ? null
    : isHpckvError(failure) ? errorToWire(failure) : { ...errorToWire(failure), code: ErrorCodes.BAD_CONFIG };
  const failures = await comm.allgather(mine);
  const failedRank = failures.findIndex((wire) => wire !== null);
  if (failedRank < 0) return;
  const first = errorFromWire(failures[failedRank]);
  throw new HpckvError(first.code, `${what} on rank ${failedRank} failed: ${first.message}`, {
    cause: failedRank === comm.rank ? failure : first, retryable: first.retryable, details: { ...first.details, failedRank },
  });
}

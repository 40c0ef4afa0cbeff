import { setTimeout as delay } from 'node:timers/promises';
import { ErrorCodes, HpckvError } from '../errors.js';
import type { Link } from '../rpc/link.js';
import { connect } from '../rpc/transport.js';
import type { StartupAbort } from './startup-abort.js';

/** Back-off between attempts to reach a root that is not listening yet. */
const ROOT_RETRY_FIRST_MS = 10;
const ROOT_RETRY_MAX_MS = 500;

/**
 * A socket endpoint's connection to a peer during its start-up: by `deadlineMs` (a Date.now()
 * time), or the start-up's failure if that comes first. With `retry`, keeps trying while nobody
 * listens there yet (the root may start last). Fails with HPCKV_ERR_COMM naming `rank`, the
 * connecting rank.
 */
export async function connectDuringStartup(address: string, options: { rank: number; retry: boolean; deadlineMs: number; startup: StartupAbort }):
  Promise<Link> {
  const { startup } = options;
  let backoff = ROOT_RETRY_FIRST_MS;
  for (;;) {
    try {
      const attempt = connect(address, Math.max(1, options.deadlineMs - Date.now()));
      // A connection that completes after start-up failed is nobody's: close it.
      attempt.then((link) => { if (startup.failed) link.destroy(); }, () => undefined);
      return await startup.guard(attempt);
    } catch (error) {
      if (startup.failed) throw startup.reason;
      const code = ((error as HpckvError).cause as NodeJS.ErrnoException | undefined)?.code;
      if (!options.retry || (code !== 'ECONNREFUSED' && code !== 'ENOENT')) {
        throw new HpckvError(ErrorCodes.COMM, `rank ${options.rank} cannot connect to ${address}: ${(error as Error).message}`,
          { cause: error, details: { address } });
      }
    }
    await delay(backoff, undefined, { signal: startup.signal }).catch(() => { throw startup.reason; });
    backoff = Math.min(backoff * 2, ROOT_RETRY_MAX_MS);
  }
}

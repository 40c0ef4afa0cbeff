import { ErrorCodes, HpckvError } from '../core/errors.js';

/**
 * Times a job may lose its sandbox process to another job's fault before it fails itself: a
 * filter's or map's batch is sent again (and a job start done again) on the replacement, a reduce
 * is run again from the start of its range. Three losses in one job mean the pool keeps dying
 * under it, and retrying further would only add load.
 */
export const SANDBOX_LOSSES_MAX = 3;

/**
 * A bystander's call: its sandbox process ended while another job's call was running there (a
 * memory bomb, or a call the watchdog killed). The call did nothing wrong, so the caller may run
 * it again on the replacement. It is a PROCEDURE_MEMORY error, so one that is not caught still
 * reaches a client typed.
 */
export class SandboxLost extends HpckvError {
  constructor(why: string) {
    super(ErrorCodes.PROCEDURE_MEMORY, `${why}: another job's call ended this sandbox process; the isolate is replaced`,
      { retryable: true, details: { limit: 'procedureIsolateMemoryMbMax' } });
  }
}

/** What a job fails with once it lost its sandbox process more than SANDBOX_LOSSES_MAX times. */
export function lostTooOften(losses: number): HpckvError {
  return new HpckvError(ErrorCodes.PROCEDURE_MEMORY,
    `the sandbox process ended under this job ${losses} times, each for another job's fault; it is not run again`,
    { retryable: true, details: { limit: 'procedureIsolateMemoryMbMax', sandboxLosses: losses, sandboxLossesMax: SANDBOX_LOSSES_MAX } });
}

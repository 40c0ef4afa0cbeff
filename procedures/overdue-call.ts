import { ErrorCodes, HpckvError } from '../core/errors.js';

/** How long past its timeout a call is first looked at, and how often after that. */
export const OVERDUE_CHECK_MS = 1000;

/**
 * Watches one isolate call for the memory bomb neither of isolated-vm's guards can stop: a
 * builtin that allocates in a loop of its own (a global regex replace on a 32M-character string)
 * checks for neither termination nor the heap limit until it returns; isolated-vm raises the heap
 * limit to let it unwind, so it runs on past its timeout, growing (in a 32 MiB isolate, 300 MB of
 * this process in 10 s), until the host's watchdog kills the process as a timeout. A call still
 * running `OVERDUE_CHECK_MS` after its timeout is looked at every `OVERDUE_CHECK_MS`: once this
 * process has grown by more than the isolate may hold since the call began, `bomb` rejects with
 * HPCKV_ERR_PROCEDURE_MEMORY (the caller ends the process: the isolate cannot be stopped). A call
 * stuck without growing is left to the watchdog (HPCKV_ERR_PROCEDURE_TIMEOUT).
 */
export class OverdueCall {
  readonly bomb: Promise<never>;
  #timer: NodeJS.Timeout | undefined;
  #tripped = false;

  constructor(timeoutMs: number, isolateMemoryBytes: number) {
    const rssAtStart = process.memoryUsage.rss();
    this.bomb = new Promise<never>((_, reject) => {
      const check = (): void => {
        const grownBytes = process.memoryUsage.rss() - rssAtStart;
        if (grownBytes <= isolateMemoryBytes) {
          this.#timer = setTimeout(check, OVERDUE_CHECK_MS);
          return;
        }
        this.#tripped = true;
        reject(new HpckvError(ErrorCodes.PROCEDURE_MEMORY,
          `procedure call ran past its ${timeoutMs} ms and grew its sandbox process by ${Math.round(grownBytes / 2 ** 20)} MiB, `
          + 'more than its isolate may hold, in a builtin that cannot be stopped; the isolate is replaced',
          { details: { limit: 'procedureIsolateMemoryMbMax', grownBytes } }));
      };
      this.#timer = setTimeout(check, timeoutMs + OVERDUE_CHECK_MS);
    });
  }

  /** `bomb` rejected: the call is stuck for good. */
  get tripped(): boolean {
    return this.#tripped;
  }

  /** The call settled: no more looks. */
  stop(): void {
    clearTimeout(this.#timer);
  }
}

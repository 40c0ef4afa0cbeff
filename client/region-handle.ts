import { ErrorCodes, HpckvError, errorFromWire } from '../core/errors.js';
import type { RegionDoneNotice } from '../core/region-protocol.js';

/**
 * An outstanding client-memory operation: returned once every server taking part accepted it.
 * `test()` never blocks; `wait()` resolves with the result or rejects with the operation's
 * typed error; errors stay with their handle.
 */
export class RegionHandle<T> {
  #done = false;
  #result: T | undefined;
  #error: unknown;
  readonly #settled: Promise<T>;

  constructor(work: Promise<T>) {
    this.#settled = work.then(
      (result) => { this.#done = true; this.#result = result; return result; },
      (error: unknown) => { this.#done = true; this.#error = error; throw error; },
    );
    // A handle nobody waits on must not become an unhandled rejection; wait() still sees it.
    this.#settled.catch(() => undefined);
  }

  /** True once the operation completed (successfully or not); never blocks. */
  test(): boolean {
    return this.#done;
  }

  wait(): Promise<T> {
    return this.#settled;
  }

  /** The result once done and successful; undefined before. */
  get result(): T | undefined {
    return this.#result;
  }

  /** The error once done and failed; undefined otherwise. */
  get error(): unknown {
    return this.#error;
  }
}

/**
 * Completion notices (`regionDone`) from servers, matched to the operations waiting for them.
 * A notice may arrive before its operation's accept reply was handled (both come on one
 * connection, one right after the other), so early notices are kept until claimed.
 */
export class RegionCompletions {
  readonly #waiting = new Map<string, { resolve: (records: number) => void; reject: (error: unknown) => void }>();
  readonly #early = new Map<string, RegionDoneNotice>();

  /** Resolves with the records the server reports for operation `op`, or rejects with its error. */
  expect(rank: number, op: number): Promise<number> {
    const id = `${rank}:${op}`;
    const early = this.#early.get(id);
    if (early !== undefined) {
      this.#early.delete(id);
      return early.error === null ? Promise.resolve(early.records) : Promise.reject(errorFromWire(early.error));
    }
    return new Promise((resolve, reject) => this.#waiting.set(id, { resolve, reject }));
  }

  notice(rank: number, body: unknown): null {
    const notice = body as RegionDoneNotice;
    if (typeof notice !== 'object' || notice === null || typeof notice.op !== 'number') {
      throw new HpckvError(ErrorCodes.BAD_REQUEST, 'regionDone needs { op, records, error }');
    }
    const id = `${rank}:${notice.op}`;
    const waiter = this.#waiting.get(id);
    if (waiter === undefined) { this.#early.set(id, notice); return null; }
    this.#waiting.delete(id);
    if (notice.error === null) waiter.resolve(notice.records);
    else waiter.reject(errorFromWire(notice.error));
    return null;
  }

  /** The connection to `rank` was lost: its operations cannot report any more. */
  lost(rank: number, error: HpckvError): void {
    for (const [id, waiter] of this.#waiting) {
      if (id.startsWith(`${rank}:`)) { this.#waiting.delete(id); waiter.reject(error); }
    }
  }
}

import { errorFromWire, type HpckvError } from '../core/errors.js';
import type { RegionDoneNotice } from '../core/protocol/region-messages.js';
import { ServerNotices } from './server-notices.js';

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

/** Completion notices (`regionDone`) of client-memory operations, by server rank and operation id. */
export class RegionCompletions {
  readonly #notices = new ServerNotices<RegionDoneNotice>();

  /** Resolves with the records the server reports for operation `op`, or rejects with its error. */
  expect(rank: number, op: number): Promise<number> {
    return this.#notices.expect(rank, op).then((notice) => {
      if (notice.error !== null) throw errorFromWire(notice.error);
      return notice.records;
    });
  }

  /** A server's regionDone, checked by the op table's validator. */
  notice(rank: number, notice: RegionDoneNotice): null {
    this.#notices.deliver(rank, notice.op, notice);
    return null;
  }

  /** The connection to `rank` was lost: its operations cannot report any more. */
  lost(rank: number, error: HpckvError): void {
    this.#notices.lost(rank, error);
  }
}

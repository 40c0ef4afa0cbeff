import { ErrorCodes, HpckvError } from '../core/errors.js';

/**
 * The reads and writes a database has accepted and not finished, so that closing can refuse new
 * work at once and still let the accepted work end before the store closes under it.
 */
export class InFlightWork {
  readonly #db: string;
  #count = 0;
  #closing = false;
  #drained: (() => void) | null = null;

  /** `db` names the database in the refusal. */
  constructor(db: string) {
    this.#db = db;
  }

  /** HPCKV_ERR_SHUTTING_DOWN once closing has begun, else undefined: the caller may begin. */
  refusal(): HpckvError | undefined {
    if (!this.#closing) return undefined;
    return new HpckvError(ErrorCodes.SHUTTING_DOWN, `database "${this.#db}" is closing`, { details: { db: this.#db } });
  }

  begin(): void {
    this.#count++;
  }

  end(): void {
    if (--this.#count === 0) this.#drained?.();
  }

  /** Refuses new work from now on; resolves once the work in flight has ended. */
  close(): Promise<void> {
    this.#closing = true;
    if (this.#count === 0) return Promise.resolve();
    return new Promise<void>((resolve) => { this.#drained = resolve; });
  }
}

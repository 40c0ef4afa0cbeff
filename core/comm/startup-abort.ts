/**
 * A socket endpoint's start-up as one abortable step: the first failure (the timeout, a peer that
 * goes, a broken handshake, a close) aborts it with its error, and every start-up wait rejects
 * with that error. Once the start-up has succeeded, later failures are no longer its concern.
 */
export class StartupAbort {
  private readonly controller = new AbortController();
  private succeeded = false;

  /** Aborted (with the error as reason) when the start-up fails. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get failed(): boolean {
    return this.controller.signal.aborted;
  }

  /** The error the start-up failed with (only meaningful once `failed`). */
  get reason(): unknown {
    return this.controller.signal.reason;
  }

  /** Fails the start-up with `error`, unless it already failed or succeeded. */
  fail(error: Error): void {
    if (!this.succeeded && !this.failed) this.controller.abort(error);
  }

  succeed(): void {
    this.succeeded = true;
  }

  /** `promise`, or the start-up failure if that comes first. */
  guard<T>(promise: Promise<T>): Promise<T> {
    const signal = this.controller.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }
}

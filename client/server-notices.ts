/**
 * Notices servers send this client over the back channel (an operation or job ended), matched
 * to whoever waits for them by (server rank, id). A notice may arrive before its waiter was
 * registered (the acceptance and the notice come on one connection, one right after the other),
 * so early notices are kept until claimed. A lost connection fails its rank's waiters.
 */
export class ServerNotices<T> {
  readonly #waiting = new Map<string, { resolve: (notice: T) => void; reject: (error: unknown) => void }>();
  readonly #early = new Map<string, T>();

  expect(rank: number, id: number): Promise<T> {
    const key = `${rank}:${id}`;
    const early = this.#early.get(key);
    if (early !== undefined) {
      this.#early.delete(key);
      return Promise.resolve(early);
    }
    return new Promise((resolve, reject) => this.#waiting.set(key, { resolve, reject }));
  }

  deliver(rank: number, id: number, notice: T): void {
    const key = `${rank}:${id}`;
    const waiter = this.#waiting.get(key);
    if (waiter === undefined) { this.#early.set(key, notice); return; }
    this.#waiting.delete(key);
    waiter.resolve(notice);
  }

  lost(rank: number, error: unknown): void {
    for (const [key, waiter] of this.#waiting) {
      if (key.startsWith(`${rank}:`)) { this.#waiting.delete(key); waiter.reject(error); }
    }
  }
}

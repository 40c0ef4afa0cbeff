/**
 * Per-key locks for one database, granted in arrival order.
 *
 * Every write takes the locks of all its keys at once, before it reads old values (for stats or
 * for a conditional put) and until its LevelDB write has completed. Two writes that share a key
 * therefore never interleave their read-modify-write, and they reach LevelDB in the order they
 * arrived (the libuv thread pool would otherwise be free to reorder them).
 *
 * Taking free locks costs a few map operations and no promise: `Lease.ready` is null and the
 * caller goes on in the same turn. Only a write that finds one of its keys held waits, and it
 * waits only for earlier leases, so the waits form no cycle and cannot deadlock.
 */
export class KeyLocks {
  /** The latest lease that claimed each key; the entry is removed when that lease releases. */
  readonly #holders = new Map<string, Lease>();

  /** Claims every key in `ids` (lock ids from `lockId`); duplicates are allowed. */
  acquire(ids: readonly string[]): Lease {
    const lease = new Lease(this.#holders, ids);
    for (const id of ids) {
      const previous = this.#holders.get(id);
      if (previous === lease) {
        lease.repeatsKeys = true;
        continue;
      }
      if (previous !== undefined) previous.addWaiter(lease);
      this.#holders.set(id, lease);
    }
    lease.arm();
    return lease;
  }

  /** Keys currently held or waited for (for tests and diagnostics). */
  get size(): number {
    return this.#holders.size;
  }
}

/** The right to read and write a set of keys until `release()`. */
export class Lease {
  /** Null when every key was free; otherwise resolves once all earlier holders have released. */
  ready: Promise<void> | null = null;
  /** True when the acquired ids named some key more than once (a batch touching a key twice). */
  repeatsKeys = false;

  readonly #holders: Map<string, Lease>;
  readonly #ids: readonly string[];
  #pending = 0;
  #waiters: Lease[] | null = null;
  #resolve: (() => void) | null = null;
  #released = false;

  constructor(holders: Map<string, Lease>, ids: readonly string[]) {
    this.#holders = holders;
    this.#ids = ids;
  }

  /** @internal Called by KeyLocks: `waiter` may start only after this lease releases. */
  addWaiter(waiter: Lease): void {
    (this.#waiters ??= []).push(waiter);
    waiter.#pending++;
  }

  /** @internal Called by KeyLocks once all keys are claimed. */
  arm(): void {
    if (this.#pending > 0) this.ready = new Promise((resolve) => { this.#resolve = resolve; });
  }

  /** Gives the keys to the next waiters. Safe to call more than once. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    for (const id of this.#ids) {
      if (this.#holders.get(id) === this) this.#holders.delete(id);
    }
    const waiters = this.#waiters;
    if (waiters === null) return;
    this.#waiters = null;
    for (const waiter of waiters) {
      if (--waiter.#pending === 0) waiter.#resolve?.();
    }
  }
}

/**
 * The lock id of a key: its bytes as a latin1 string, which maps bytes to characters one to one
 * (so distinct keys never share a lock) and is the cheapest string Node makes from bytes.
 */
export function lockId(key: Buffer): string {
  return key.toString('latin1');
}

/** The lock ids of a request's keys, in order. */
export function lockIds(keys: readonly Buffer[]): string[] {
  const ids = new Array<string>(keys.length);
  for (let i = 0; i < keys.length; i++) ids[i] = lockId(keys[i]!);
  return ids;
}

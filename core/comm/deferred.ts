/**
 * A promise resolved from outside, for the waits of a socket endpoint's start-up. It is only ever
 * resolved: those waits fail through the start-up's abort (startup-abort.ts) instead.
 */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

/**
 * The fan-out rule of every call that sends parts to several servers (or several messages to one):
 * wait for every part, then fail with the first error in part order. A caller never sees an error
 * while parts of its call are still running, so it never retries or moves on over a part that
 * may still land.
 */
export async function allParts<T>(parts: ReadonlyArray<Promise<T>>): Promise<T[]> {
  const settled = await Promise.allSettled(parts);
  const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<T>).value);
}

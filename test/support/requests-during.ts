import type { Client } from '../../client/client.js';

/**
 * Requests each server of a client's group received while `run` ran (the stat requests that
 * measure it not counted), read off each server's own request counter: which servers a read
 * asked.
 */
export async function requestsDuring(client: Client, run: () => Promise<unknown>): Promise<number[]> {
  const before = (await client.stat()).map((s) => s.requests);
  await run();
  const after = (await client.stat()).map((s) => s.requests);
  // `before` was read before its own stat request was counted, `after` after: subtract that one.
  return after.map((count, i) => count - before[i]! - 1);
}

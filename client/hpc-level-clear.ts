import type { Client, WriteOptions } from './client.js';
import type { LevelScanSource } from './hpc-level-iterator.js';
import type { LevelRange } from './hpc-level-keys.js';

/** Keys deleted per delMany while a limited clear pages through its range. */
const CLEAR_PAGE_KEYS = 1000;

/**
 * Deletes the level keys of `range`: without a limit, one deleteRange per server (each server
 * deletes its part page by page); with a limit, the first `limit` keys in scan order (from the
 * top when reversed) are read and deleted in pages. Not atomic, and not on a snapshot.
 */
export async function clearRange(client: Client, source: LevelScanSource,
  options: LevelRange & { reverse: boolean; limit: number }, request: WriteOptions): Promise<void> {
  const range = source.space.range(options);
  if (options.limit < 0) {
    await client.deleteRange(range, request);
    return;
  }
  const scan = source.scan(range, { reverse: options.reverse, limit: options.limit, values: false });
  try {
    for (;;) {
      const page = await scan.nextv(CLEAR_PAGE_KEYS);
      if (page.length === 0) break;
      // A scan without values gives the stored keys alone (Buffers: a level's group stores bytes).
      await client.delMany(page as Buffer[], request);
    }
  } finally {
    await scan.close();
  }
}

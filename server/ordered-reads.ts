import type { ClassicLevel } from 'classic-level';
import { resumeAfter } from '../core/protocol/resume-after.js';

/**
 * Ordered reads over one LevelDB store: cursor steps and bounded scan pages. NEXT of a key
 * that is not stored is its true successor (an iterator seek, not a lookup), and no step needs
 * any collective step first: unlike MDHIM, nothing here depends on cached per-server stats.
 */

export type Bounds = { gt?: Buffer; gte?: Buffer; lt?: Buffer; lte?: Buffer };

/** The first entry of `bounds` in the given direction, or null. */
export async function firstEntry(db: ClassicLevel<Buffer, Buffer>, bounds: Bounds, reverse: boolean): Promise<[Buffer, Buffer] | null> {
  const iterator = db.iterator({ ...bounds, reverse, limit: 1 });
  try {
    const entries = await iterator.nextv(1);
    const entry = entries[0];
    return entry === undefined ? null : [entry[0], entry[1]];
  } finally {
    await iterator.close();
  }
}

export interface ScanPage {
  keys: Buffer[];
  values: Buffer[] | null;
  /** Nothing more in the range after this page. */
  done: boolean;
}

/**
 * The pages of `bounds`, each read by `read` from where the previous one ended (strictly after
 * its last key), until a page says done or comes back empty; the caller may stop early. `read`
 * sizes each page as the caller's state requires, and a caller may ask for the next page before
 * it is done with this one (a procedure job reads ahead). Counts, range deletes, region staging
 * and procedure jobs page this way.
 */
export async function* pagesOf(bounds: Bounds, reverse: boolean, read: (from: Bounds) => Promise<ScanPage>): AsyncGenerator<ScanPage> {
  let from = bounds;
  for (;;) {
    const page = await read(from);
    yield page;
    if (page.done || page.keys.length === 0) return;
    from = resumeAfter(bounds, page.keys[page.keys.length - 1]!, reverse);
  }
}

/** Entries fetched per native call while filling a page. */
const BATCH_ENTRIES = 256;

/**
 * One page of a range: at most `limit` entries and about `pageBytes` bytes (the entry that
 * crosses the byte bound is included, so a page always makes progress). LevelDB reads ahead
 * `pageBytes` at a time (highWaterMarkBytes), which measured well above its small default, but
 * never past the page's `limit` and the one entry after it.
 */
export async function scanPage(db: ClassicLevel<Buffer, Buffer>, bounds: Bounds, options: {
  reverse: boolean; limit: number; pageBytes: number; values: boolean;
}): Promise<ScanPage> {
  // `limit` bounds LevelDB's read-ahead too: without it a page of 1000 entries read up to
  // highWaterMarkBytes (1 MiB, 4000 entries of 256 B) and dropped the rest when it closed.
  const iterator = db.iterator({
    ...bounds, reverse: options.reverse, keys: true, values: options.values, highWaterMarkBytes: options.pageBytes,
    limit: options.limit < Number.MAX_SAFE_INTEGER ? options.limit + 1 : -1,
  });
  const keys: Buffer[] = [];
  const values: Buffer[] | null = options.values ? [] : null;
  let bytes = 0;
  let done = false;
  try {
    while (keys.length < options.limit && bytes < options.pageBytes) {
      const entries = await iterator.nextv(Math.min(BATCH_ENTRIES, options.limit - keys.length));
      if (entries.length === 0) { done = true; break; }
      for (const [key, value] of entries) {
        keys.push(key);
        bytes += key.length;
        if (values !== null) { values.push(value); bytes += value.length; }
      }
    }
    // A full page may still be the last one: look one entry further so the client need not ask.
    if (!done) done = (await iterator.nextv(1)).length === 0;
  } finally {
    await iterator.close();
  }
  return { keys, values, done };
}

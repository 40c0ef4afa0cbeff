import type { ClassicLevel } from 'classic-level';
import type { DatabaseStats } from '../core/protocol.js';

/** Entries fetched per native call while scanning. */
const SCAN_PAGE_ENTRIES = 1024;

/**
 * Counts what a store holds by reading every entry. Run once when a database opens, so stats
 * after a restart (or a crash between a write and its stats update) are the truth, not a saved
 * number that may have drifted.
 */
export async function scanStats(db: ClassicLevel<Buffer, Buffer>, onKey: (key: Buffer) => void = () => undefined): Promise<DatabaseStats> {
  const stats: DatabaseStats = { records: 0, keyBytes: 0, valueBytes: 0 };
  const iterator = db.iterator({ keys: true, values: true });
  try {
    for (;;) {
      const entries = await iterator.nextv(SCAN_PAGE_ENTRIES);
      if (entries.length === 0) break;
      for (const [key, value] of entries) {
        onKey(key);
        stats.records++;
        stats.keyBytes += key.length;
        stats.valueBytes += value.length;
      }
    }
  } finally {
    await iterator.close();
  }
  return stats;
}

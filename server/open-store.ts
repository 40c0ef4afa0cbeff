import { ClassicLevel } from 'classic-level';
import { storeError } from './store-error.js';
import { readStoreSummary } from './store-summary.js';
import { StoreStartup } from './store-startup.js';

/**
 * Opens (creating if missing) the LevelDB store at `location` and begins its start-up: the summary
 * of the last clean close is read before LevelDB opens the store, then the stats and key filter
 * come from it or from a count in the background (store-startup.ts). Every failure is a
 * HPCKV_ERR_STORE naming the step; nothing is left open after one. `countGate` holds a count of
 * the records (a test hook).
 */
export async function openStore(location: string, name: string, countGate: Promise<void> | undefined):
  Promise<{ db: ClassicLevel<Buffer, Buffer>; startup: StoreStartup }> {
  const openedAt = performance.now();
  let summary: Awaited<ReturnType<typeof readStoreSummary>>;
  try {
    // Its header only, before LevelDB opens the store: opening changes the state a summary must match.
    summary = await readStoreSummary(location);
  } catch (cause) {
    throw storeError(cause, name, 'read the summary');
  }
  const db = new ClassicLevel<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  try {
    await db.open();
  } catch (cause) {
    if (typeof summary !== 'string') await summary.close();
    // classic-level hides the reason (e.g. LOCK held by another process) in the cause.
    throw storeError(cause instanceof Error && cause.cause !== undefined ? cause.cause : cause, name, 'open');
  }
  try {
    const startup = await StoreStartup.begin(db, name, location, summary, { openedAt, countGate });
    return { db, startup };
  } catch (cause) {
    await db.close().catch(() => undefined);
    throw storeError(cause, name, 'start');
  }
}

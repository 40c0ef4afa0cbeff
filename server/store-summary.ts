import { open, readFile, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from '../core/group-file.js';
import type { DatabaseStartup } from '../core/protocol.js';
import { readStoreState, sameStoreState } from './store-state.js';
import { decodeSummary, encodeSummary, type StoreSummary } from './summary-format.js';

/**
 * The summary file inside a store's directory (LevelDB leaves files whose names it does not
 * parse alone). A clean close writes it; the next open takes it, or ignores it when it does not
 * describe the store as it is, and removes it before the store takes its first write.
 */
const SUMMARY_FILE = 'hpckv-summary';

/** Why a summary was not used (DatabaseStartup['summary'] but 'loaded'): 'new' when there is no store yet. */
export type SummaryRejection = Exclude<DatabaseStartup['summary'], 'loaded'>;

/**
 * The summary of the closed store at `location` if it describes the store's present state. Read it
 * before LevelDB opens the store: opening writes a new manifest, which is what tells a summary of
 * this state from a stale one (store-state.ts), and creates a store that does not exist yet.
 */
export async function readStoreSummary(location: string): Promise<StoreSummary | SummaryRejection> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(location, SUMMARY_FILE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return (await readStoreState(location)) === null ? 'new' : 'missing';
  }
  const summary = decodeSummary(bytes);
  if (typeof summary === 'string') return summary;
  const state = await readStoreState(location);
  return state !== null && sameStoreState(state, summary.state) ? summary : 'stale';
}

/**
 * Writes the summary of the store at `location`, which must be closed (its state is read now), so
 * that it survives a crash once this resolves: temp file, flush, rename, then the directory.
 */
export async function writeStoreSummary(location: string, summary: Omit<StoreSummary, 'state'>): Promise<void> {
  const state = await readStoreState(location);
  if (state === null) return;
  await writeAtomically(join(location, SUMMARY_FILE), encodeSummary({ ...summary, state }));
  await syncDirectory(location);
}

/**
 * Removes the summary (and temp files a crash left mid-write) so that it is gone on disk when
 * this resolves: a summary must never outlive the state it describes.
 */
export async function removeStoreSummary(location: string): Promise<void> {
  const names = await readdir(location);
  const ours = names.filter((name) => name === SUMMARY_FILE || (name.startsWith(`${SUMMARY_FILE}.`) && name.endsWith('.tmp')));
  if (ours.length === 0) return;
  await Promise.all(ours.map((name) => unlink(join(location, name))));
  await syncDirectory(location);
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

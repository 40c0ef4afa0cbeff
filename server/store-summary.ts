import { open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from '../core/group-file.js';
import type { DatabaseStartup, DatabaseStats } from '../core/protocol/messages.js';
import type { KeyFilterLayers } from './key-filter.js';
import { readStoreState, sameStoreState } from './store-state.js';
import {
  decodeHeader, decodeLayers, encodeSummary, headerBytesAfter, SUMMARY_PREFIX_BYTES, type SummaryLayout,
} from './summary-format.js';

/**
 * The summary file inside a store's directory (LevelDB leaves files whose names it does not
 * parse alone). A clean close writes it; the next open takes it, or ignores it when it does not
 * describe the store as it is, and removes it before the store takes its first write.
 */
const SUMMARY_FILE = 'hpckv-summary';
/** LevelDB's write-ahead logs: NNNNNN.log. */
const LOG_FILE = /^[0-9]+\.log$/;

/** Why a summary was not used (DatabaseStartup['summary'] but 'loaded'): 'new' when there is no store yet. */
export type SummaryRejection = Exclude<DatabaseStartup['summary'], 'loaded'>;

/**
 * A summary whose header matched the store: its stats, and its filter still to be read from the
 * file it holds open (the file may be removed meanwhile: the open handle keeps its bytes).
 */
export class OpenedSummary {
  readonly stats: DatabaseStats;
  readonly #handle: FileHandle;
  readonly #layout: SummaryLayout;

  constructor(handle: FileHandle, layout: SummaryLayout) {
    this.#handle = handle;
    this.#layout = layout;
    this.stats = layout.header.stats;
  }

  /** Reads and checks the filter's layers (one read of about 4 bytes per key), then closes the file. */
  async readFilter(): Promise<KeyFilterLayers | 'corrupt'> {
    try {
      const bytes = Buffer.allocUnsafeSlow(this.#layout.layersBytes);
      const { bytesRead } = await this.#handle.read(bytes, 0, bytes.length, this.#layout.layersAt);
      return await decodeLayers(this.#layout, bytes.subarray(0, bytesRead));
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    await this.#handle.close().catch(() => undefined);
  }
}

/**
 * The summary of the closed store at `location` if its header describes the store's present
 * state. Read it before LevelDB opens the store: opening writes a new manifest, which is what
 * tells a summary of this state from a stale one (store-state.ts), and creates a store that does
 * not exist yet. (Another process could open, write and close the store between this read and
 * our open only by running a second server on the same data directory, which LevelDB's LOCK
 * otherwise refuses.)
 */
export async function readStoreSummary(location: string): Promise<OpenedSummary | SummaryRejection> {
  let handle: FileHandle;
  try {
    handle = await open(join(location, SUMMARY_FILE), 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return (await readStoreState(location)) === null ? 'new' : 'missing';
  }
  let opened: OpenedSummary | undefined;
  try {
    const fileBytes = (await handle.stat()).size;
    const prefix = await readAt(handle, 0, SUMMARY_PREFIX_BYTES);
    const after = headerBytesAfter(prefix);
    if (typeof after === 'string') return after;
    const layout = decodeHeader(Buffer.concat([prefix, await readAt(handle, SUMMARY_PREFIX_BYTES, after)]), fileBytes);
    if (typeof layout === 'string') return layout;
    const state = await readStoreState(location);
    if (state === null || !sameStoreState(state, layout.header.state)) return 'stale';
    opened = new OpenedSummary(handle, layout);
    return opened;
  } finally {
    if (opened === undefined) await handle.close();
  }
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const bytes = Buffer.alloc(Math.min(length, 1 << 20)); // a header is well under 1 KiB; a bigger length is corrupt
  const { bytesRead } = await handle.read(bytes, 0, bytes.length, position);
  return bytes.subarray(0, bytesRead);
}

/**
 * Writes the summary of the store at `location`, which must be closed (its state is read now), so
 * that it survives a crash once this resolves: temp file, flush, rename, then the directory.
 * The store is made durable first: LevelDB does not fsync its log for writes without `sync`, nor
 * (1.20) its directory, and a summary that outlived a lost log tail would count writes the store
 * no longer holds.
 */
export async function writeStoreSummary(location: string, summary: { stats: DatabaseStats; filter: KeyFilterLayers }): Promise<void> {
  const state = await readStoreState(location);
  if (state === null) return;
  const logs = (await readdir(location)).filter((name) => LOG_FILE.test(name));
  for (const log of logs) await syncFile(join(location, log));
  await syncFile(location);
  await writeAtomically(join(location, SUMMARY_FILE), encodeSummary({ ...summary, state }));
  await syncFile(location);
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
  await syncFile(location);
}

/** fsync of a file or a directory (a directory's entries: creations, renames, removals). */
async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What tells one state of a closed LevelDB store from another: the manifest its CURRENT file
 * names, with that manifest's size and modification time. LevelDB writes a new manifest (and
 * points CURRENT at it) every time it opens a store (leveldb 1.20 `DB::Open`: `reuse_logs` is
 * off, so `save_manifest` is always set), and again as it flushes and compacts, so a store that
 * was opened since, and so any store written since, has another state.
 */
export interface StoreState {
  /** CURRENT's content without its newline, e.g. `MANIFEST-000012`. */
  manifest: string;
  manifestBytes: number;
  /** Modification time in nanoseconds, as a decimal string (a bigint does not fit JSON). */
  manifestMtimeNs: string;
}

const MANIFEST_NAME = /^MANIFEST-[0-9]+$/;

/** The state of the store at `location` (closed), or null when it has none yet (or not LevelDB's). */
export async function readStoreState(location: string): Promise<StoreState | null> {
  let current: string;
  try {
    current = await readFile(join(location, 'CURRENT'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const manifest = current.endsWith('\n') ? current.slice(0, -1) : current;
  if (!MANIFEST_NAME.test(manifest)) return null;
  try {
    const info = await stat(join(location, manifest), { bigint: true });
    return { manifest, manifestBytes: Number(info.size), manifestMtimeNs: info.mtimeNs.toString() };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export function sameStoreState(a: StoreState, b: StoreState): boolean {
  return a.manifest === b.manifest && a.manifestBytes === b.manifestBytes && a.manifestMtimeNs === b.manifestMtimeNs;
}

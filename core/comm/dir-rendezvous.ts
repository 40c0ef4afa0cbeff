import { watch } from 'node:fs';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, HpckvError } from '../errors.js';
import { writeAtomically } from '../group-file.js';
import { parsePeerRecord, type PeerRecord } from './socket-protocol.js';

/**
 * Rendezvous through a directory every rank can see (a shared file system across hosts):
 * each rank writes DIR/rank-<r>.json atomically, then waits until all `size` files exist.
 * Waiting is event-driven (fs.watch), with one scan right after the watch starts so files
 * written before it are not missed. The directory must be fresh for each launch: a file left by
 * an earlier run would be taken for a live rank. Files are removed when ranks close.
 *
 * Caveat: inotify does not report files written by other hosts on network file systems (NFS,
 * Lustre), so across hosts prefer the root-address rendezvous.
 */

const RECORD_FILE = /^rank-(\d+)\.json$/;

export function recordPath(dir: string, rank: number): string {
  return join(dir, `rank-${rank}.json`);
}

export async function publishRecord(dir: string, record: PeerRecord): Promise<void> {
  try {
    await writeAtomically(recordPath(dir, record.rank), JSON.stringify(record) + '\n');
  } catch (cause) {
    throw new HpckvError(ErrorCodes.COMM, `cannot write rendezvous file in ${dir}: ${(cause as Error).message}`,
      { cause, details: { dir } });
  }
}

export async function removeRecord(dir: string, rank: number): Promise<void> {
  await unlink(recordPath(dir, rank)).catch(() => undefined);
}

/** Resolves with the table indexed by rank; rejects with `signal.reason` when aborted. */
export function waitForRecords(dir: string, size: number, signal: AbortSignal): Promise<PeerRecord[]> {
  return new Promise<PeerRecord[]>((resolve, reject) => {
    const records: Array<PeerRecord | undefined> = new Array<PeerRecord | undefined>(size).fill(undefined);
    let found = 0;
    let scanning = false;
    let rescan = false;
    let done = false;
    let watcher: ReturnType<typeof watch> | undefined;

    const finish = (error?: unknown): void => {
      if (done) return;
      done = true;
      watcher?.close();
      signal.removeEventListener('abort', onAbort);
      if (error === undefined) resolve(records as PeerRecord[]);
      else reject(error);
    };
    const onAbort = (): void => finish(signal.reason);

    // Events only say "something changed"; one scan at a time, and one more if events came during it.
    const scan = async (): Promise<void> => {
      if (scanning) {
        rescan = true;
        return;
      }
      scanning = true;
      try {
        do {
          rescan = false;
          for (const name of await readdir(dir)) {
            if (done) return;
            const rank = RECORD_FILE.exec(name)?.[1];
            if (rank === undefined) continue;
            const r = Number(rank);
            if (r < size && records[r] !== undefined) continue;
            const record = await readRecord(join(dir, name), size, r);
            if (records[r] === undefined) {
              records[r] = record;
              found++;
            }
          }
        } while (rescan && !done);
        if (found === size) finish();
      } catch (error) {
        finish(error);
      } finally {
        scanning = false;
      }
    };

    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      watcher = watch(dir, () => void scan());
    } catch (cause) {
      finish(new HpckvError(ErrorCodes.COMM, `cannot watch rendezvous directory ${dir}: ${(cause as Error).message}`,
        { cause, details: { dir } }));
      return;
    }
    watcher.on('error', (cause) => finish(new HpckvError(ErrorCodes.COMM,
      `watching rendezvous directory ${dir} failed: ${cause.message}`, { cause, details: { dir } })));
    void scan();
  });
}

async function readRecord(path: string, size: number, rank: number): Promise<PeerRecord> {
  const bad = (what: string, cause?: unknown): HpckvError => new HpckvError(ErrorCodes.COMM,
    `rendezvous file ${path} ${what}`, { cause, details: { path } });
  if (rank >= size) throw bad(`names rank ${rank}, but the world has ${size} ranks (is the directory left from another run?)`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw bad('cannot be read', cause);
  }
  let record: PeerRecord | undefined;
  try {
    record = parsePeerRecord(JSON.parse(text), size);
  } catch (cause) {
    throw bad('is not valid JSON', cause);
  }
  if (record === undefined || record.rank !== rank) throw bad('is not a valid record for its rank');
  return record;
}

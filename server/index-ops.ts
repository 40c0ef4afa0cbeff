import { createHash } from 'node:crypto';
import {
  backrefKey, decodeBackref, decodeEntryKey, encodeBackref, entryKey, entryRange, FINGERPRINT_BYTES,
} from '../core/index-entry-key.js';
import type { Limits } from '../core/limits.js';
import type { IndexWriteReply } from '../core/protocol/messages.js';
import type { Database } from './database.js';
import { KeyLocks, lockId } from './key-locks.js';
import type { ValidIndexGet, ValidIndexLookup, ValidIndexWrite } from '../core/protocol/validate/index-requests.js';

/** The fingerprint a back-reference keeps of the value its write stored. */
function fingerprint(value: Buffer): Buffer {
  return createHash('sha256').update(value).digest().subarray(0, FINGERPRINT_BYTES);
}

export interface IndexPage { keys: Buffer[]; values: Array<Buffer | null>; done: boolean }

/**
 * The server side of secondary indexes (see core/index-entry-key.ts for the layout and
 * client/secondary-index.ts for the protocol between client and servers).
 *
 * A record is two stores apart from its back-references (the primary database and the index
 * database are separate LevelDB stores), so no write can cover both atomically. Instead an entry
 * counts only when it is *live*: its write id is the one the record's back-reference names, and
 * the record's stored value has the fingerprint the back-reference recorded. Every lookup checks
 * that on this server, next to the data, so a lookup never returns a record under a secondary key
 * that its current value was not written with, whatever crashed or raced in between.
 */
export class IndexOps {
  /** Indexed writes of one primary key run one at a time, in arrival order. */
  readonly #locks = new KeyLocks();
  readonly #limits: Limits;
  readonly #db: (name: string) => Database;

  constructor(limits: Limits, db: (name: string) => Database) {
    this.#limits = limits;
    this.#db = db;
  }

  /**
   * Under the record's lock: reads its back-references, writes the record (primary first: it is
   * the truth; an index that failed to follow leaves the record unfindable, never misfound; an
   * `ifStored` backfill only checks that the stored value is still the one it indexes), then each
   * index database in one batch: the new back-reference and, for a local index, the removal
   * of the previous write's entries and the new entries. Replies what each index held before, so
   * the client can remove a global index's old entries.
   */
  async write(r: ValidIndexWrite): Promise<IndexWriteReply> {
    const lease = this.#locks.acquire([`${r.db}\u0000${lockId(r.key)}`]);
    try {
      if (lease.ready !== null) await lease.ready;
      const itemsMax = this.#limits.indexKeysPerRecordMax;
      const previous = r.indexes.map((part) => {
        const stored = this.#db(part.indexDb).get(backrefKey(part.index, r.key));
        return stored === null ? null : decodeBackref(stored, itemsMax);
      });
      const primary = this.#db(r.db);
      if (r.ifStored) {
        // Backfill: the record stays as it is (so it stays live in its other indexes), and only
        // while it still holds the value the caller indexed; a write since then stands.
        const stored = primary.get(r.key);
        if (stored === null || r.value === null || !stored.equals(r.value)) return { applied: false, previous: r.indexes.map(() => null) };
      } else if (r.value === null) await primary.del(r.key, r.sync);
      else await primary.put(r.key, r.value, r.sync);
      const print = r.value === null ? null : fingerprint(r.value);
      for (let i = 0; i < r.indexes.length; i++) {
        const part = r.indexes[i]!;
        const before = previous[i] ?? null;
        const keys: Buffer[] = [];
        const values: Array<Buffer | null> = [];
        if (part.local && before !== null) {
          for (const s of before.secondaryKeys) { keys.push(entryKey(part.index, s, r.key, before.writeId)); values.push(null); }
        }
        if (part.local && r.value !== null) {
          for (const s of part.secondaryKeys) { keys.push(entryKey(part.index, s, r.key, r.writeId)); values.push(Buffer.alloc(0)); }
        }
        keys.push(backrefKey(part.index, r.key));
        values.push(print === null ? null : encodeBackref(r.writeId, print, part.secondaryKeys));
        await this.#db(part.indexDb).write(keys, values, r.sync);
      }
      return {
        applied: true,
        previous: previous.map((before) => (before === null ? null : { writeId: before.writeId, secondaryKeys: before.secondaryKeys })),
      };
    } finally {
      lease.release();
    }
  }

  /** The record's value when the entry (primary key, write id) is live, else null. */
  #live(primaryDb: Database, indexDb: Database, namespace: Buffer, key: Buffer, writeId: Buffer): Buffer | null {
    const stored = indexDb.get(backrefKey(namespace, key));
    if (stored === null) return null;
    const backref = decodeBackref(stored, this.#limits.indexKeysPerRecordMax);
    if (backref === null || !backref.writeId.equals(writeId)) return null;
    const value = primaryDb.get(key);
    if (value === null || !fingerprint(value).equals(backref.fingerprint)) return null;
    return value;
  }

  /**
   * One page of a local index: up to `limit` entries of the range (clamped to the index's
   * entries), each with its record's value when live. Stops early once keys and values reach
   * `pageBytes` (the entry that crosses it included, so a page always makes progress).
   */
  async lookup(r: ValidIndexLookup): Promise<IndexPage> {
    const all = entryRange(r.index, {});
    const range = { ...r.range };
    const lower = range.gte ?? range.gt;
    if (lower === undefined || Buffer.compare(lower, all.gte) < 0) { delete range.gt; range.gte = all.gte; }
    const upper = range.lt ?? range.lte;
    if (upper === undefined || Buffer.compare(upper, all.lt) > 0) { delete range.lte; range.lt = all.lt; }
    const indexDb = this.#db(r.indexDb);
    const primaryDb = this.#db(r.db);
    const page = await indexDb.scanPage(range, { reverse: false, limit: r.limit, pageBytes: r.pageBytes, values: false });
    const keys: Buffer[] = [];
    const values: Array<Buffer | null> = [];
    let bytes = 0;
    for (const key of page.keys) {
      const entry = decodeEntryKey(r.index, key);
      const value = entry === null ? null : this.#live(primaryDb, indexDb, r.index, entry.primaryKey, entry.writeId);
      keys.push(key);
      values.push(value);
      bytes += key.length + (value?.length ?? 0);
      if (bytes >= r.pageBytes && keys.length < page.keys.length) return { keys, values, done: false };
    }
    return { keys, values, done: page.done };
  }

  /** Values of the named records where live (null elsewhere), the first ones up to scanPageBytesMax. */
  get(r: ValidIndexGet): Array<Buffer | null> {
    const indexDb = this.#db(r.indexDb);
    const primaryDb = this.#db(r.db);
    const values: Array<Buffer | null> = [];
    let bytes = 0;
    for (let i = 0; i < r.keys.length && (i === 0 || bytes < this.#limits.scanPageBytesMax); i++) {
      const value = this.#live(primaryDb, indexDb, r.index, r.keys[i]!, r.writeIds[i]!);
      values.push(value);
      bytes += value?.length ?? 0;
    }
    return values;
  }
}

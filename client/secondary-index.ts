import type { KeyValue } from '../core/keys/key-type.js';
import { valueBytes, type BytesInput } from './bytes.js';
import type { KeyInput, RequestOptions, WriteOptions } from './core/options.js';
import { buildIndex } from './index-build.js';
import { createIndexDefinition, openIndexDefinition } from './index-catalog.js';
import { IndexLayout } from './index-layout.js';
import { collectMatches, indexMatches } from './index-lookups.js';
import type {
  BuildOptions, BuildProgress, CreateIndexOptions, IndexDefinition, IndexHost, IndexMatch, KeyExtractor, LookupOptions, OpenIndexOptions,
  SecondaryRange,
} from './index-types.js';
import { checkIndexedWrite, writeIndexedRecord } from './index-writes.js';

/**
 * Secondary indexes (issue 3, deliverable 6): records of a primary database found by a secondary
 * key, in one call.
 *
 * - **global**: entries are partitioned by the secondary key alone, with the index's own
 *   partitioner (a hash ring, or a range table over encoded secondary keys), so a lookup of one
 *   secondary key reads one server's entries and then the records, one message per server.
 * - **local**: entries live on the server of their record; a lookup asks every server, and each
 *   answers with its matching records directly (op `indexLookup`).
 *
 * Correctness does not rest on atomicity across stores (the primary and index databases are
 * separate LevelDB stores, and a global index's entries are on other servers). Instead:
 * - every indexed write has a random write id W. Entry keys carry W, and the record's
 *   back-reference (on the record's server) names the current W and a fingerprint of the value;
 * - an entry is *live* only when its W is the current one and the stored value has that
 *   fingerprint, and servers check this on every lookup (verify on read). So a lookup never
 *   returns a record whose current value was not written with the looked-up secondary key: not
 *   after an update, a delete, a crash half-way, two clients racing on one record, or a plain
 *   `client.put` that bypassed the index (that record is simply not found until re-indexed);
 * - a global write puts its new entries *before* it switches the back-reference, and removes the
 *   previous write's entries (named by the previous W, which the switch returns) after; entries of
 *   another write have another W, so a slow writer can never remove a newer write's entries.
 *   Switching the back-reference is serialized per record on its server (`indexWrite`).
 *
 * Chosen over the suggested "read the old value and re-extract": that needs an extractor function
 * every client must agree on, and two clients updating one record can then delete each other's
 * fresh entries. Here the caller passes each record's secondary keys and the server remembers them.
 *
 * The parts: definitions and their catalog records (`client/index-catalog.ts`), what one index's
 * reads and writes share (`client/index-layout.ts`), the API's types (`client/index-types.ts`), indexed writes (`client/index-writes.ts`),
 * lookups (`client/index-lookups.ts`) and backfill (`client/index-build.ts`); this class is the
 * API over them.
 */

export type * from './index-types.js';

/** A record's secondary keys under one index, for a write through several (`SecondaryIndex.write`). */
export interface IndexedKeys {
  index: SecondaryIndex;
  /** Values of the index's key type; [] keeps the record out of that index. */
  secondaryKeys: readonly KeyValue[];
}

export class SecondaryIndex {
  readonly definition: IndexDefinition;
  readonly #layout: IndexLayout;

  private constructor(host: IndexHost, definition: IndexDefinition) {
    this.definition = definition;
    this.#layout = new IndexLayout(host, definition);
  }

  get name(): string {
    return this.definition.name;
  }

  /**
   * Creates the index, or opens it when one of that name and the same definition exists (so
   * every rank of a job may call it). Another definition under the name is HPCKV_ERR_INDEX_EXISTS.
   * Creating an index does not index records already stored: `build` does.
   */
  static async create(host: IndexHost, name: string, options: CreateIndexOptions, call: RequestOptions = {}): Promise<SecondaryIndex> {
    return new SecondaryIndex(host, await createIndexDefinition(host, name, options, call));
  }

  /** Opens an index by name from its catalog record; HPCKV_ERR_UNKNOWN_INDEX when there is none. */
  static async open(host: IndexHost, name: string, options: OpenIndexOptions = {}): Promise<SecondaryIndex> {
    return new SecondaryIndex(host, await openIndexDefinition(host, name, options));
  }

  /**
   * Writes the record `key` = `value` with its secondary keys under this index (each a value of
   * the index's key type; an empty list keeps the record out of the index), replacing the entries
   * of its previous indexed write. The record is written once this resolves; lookups may miss it
   * (never misfind it) while the call is in flight, or if it fails part-way: retry the call.
   */
  async put(key: KeyInput, value: BytesInput, secondaryKeys: readonly KeyValue[], options: WriteOptions = {}): Promise<void> {
    await SecondaryIndex.write(key, value, [{ index: this, secondaryKeys }], options);
  }

  /** Deletes the record and its entries. */
  async del(key: KeyInput, options: WriteOptions = {}): Promise<void> {
    await SecondaryIndex.write(key, null, [{ index: this, secondaryKeys: [] }], options);
  }

  /** The records with secondary key `secondaryKey`, ordered by primary key bytes (the store's key order). */
  async lookup(secondaryKey: KeyValue, options: LookupOptions = {}): Promise<Array<[KeyValue, Buffer]>> {
    const s = this.#layout.encodeSecondary(secondaryKey);
    return collectMatches(indexMatches(this.#layout, { gte: s, lte: s }, options), options);
  }

  /**
   * The records whose secondary keys lie in `range`, ordered by secondary key then primary key; a
   * record with several secondary keys in the range is returned once per key.
   */
  async lookupRange(range: SecondaryRange, options: LookupOptions = {}): Promise<Array<[KeyValue, Buffer]>> {
    return collectMatches(indexMatches(this.#layout, this.#layout.encodeRange(range), options), options);
  }

  /** Matches of a range one at a time, with the secondary key each was found under (same order as lookupRange). */
  async *scan(range: SecondaryRange = {}, options: LookupOptions = {}): AsyncGenerator<IndexMatch> {
    for await (const match of indexMatches(this.#layout, this.#layout.encodeRange(range), options)) yield match;
  }

  /**
   * Indexes the records already stored in the primary database (a backfill, or a rebuild after
   * the secondary keys changed): scans it page by page (`pageEntries` records at a time, default
   * 256, so memory stays bounded), asks `extract` for each record's secondary keys, and writes its
   * entries and back-reference in this index, replacing the ones it had. The records themselves are
   * not written again, so they stay live in their other indexes, and a record written since it was
   * scanned is skipped (that write stands; `skipped` counts them). `onProgress` is called after
   * every page; the result is the final count.
   */
  async build(extract: KeyExtractor, options: BuildOptions = {}): Promise<BuildProgress> {
    return buildIndex(this.#layout, extract, options);
  }

  /**
   * Writes the record `key` = `value` (or deletes it, for null) through several indexes of one
   * primary database at once, with one write id for all of them, so it is live in every one
   * (`Client.putIndexed` / `delIndexed` name the indexes instead). Each part gives one index and
   * the record's secondary keys under it (ignored for a delete). Global parts: the new entries
   * first, on their index servers; then the record and every back-reference (and the local
   * indexes' entries) in one request to the record's server; then the previous writes' global
   * entries are removed. Indexes of other primary databases, or the same index twice, are
   * HPCKV_ERR_BAD_REQUEST; more than indexesPerWriteMax is HPCKV_ERR_BATCH_TOO_LARGE.
   */
  static async write(key: KeyInput, value: BytesInput | null, parts: readonly IndexedKeys[], options: WriteOptions = {}): Promise<void> {
    if (!Array.isArray(parts) || parts.length === 0) throw new TypeError('an indexed write needs at least one { index, secondaryKeys }');
    const first = parts[0]?.index;
    if (!(first instanceof SecondaryIndex)) throw new TypeError('parts[0].index must be a SecondaryIndex');
    const host = first.#layout.host;
    const pk = host.encodeKey(key);
    const bytes = value === null ? null : valueBytes(value, host.limits);
    const checked = checkIndexedWrite(host, parts, SecondaryIndex.#layoutOf, options);
    await writeIndexedRecord(host, checked.primaryDb, pk, bytes, checked.parts, options, false);
  }

  /** The layout of a SecondaryIndex; undefined for anything else. */
  static #layoutOf(this: void, index: unknown): IndexLayout | undefined {
    return index instanceof SecondaryIndex ? index.#layout : undefined;
  }
}

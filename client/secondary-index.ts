import { randomBytes } from 'node:crypto';
import { ErrorCodes, HpckvError, isHpckvError } from '../core/errors.js';
import type { GroupFile, HashPartitionSpec, RangePartitionSpec } from '../core/group-file.js';
import {
  catalogKey, decodeEntryKey, entryKey, entryRange, INDEX_NAME_PATTERN, indexNamespace, WRITE_ID_BYTES,
  type SecondaryBounds,
} from '../core/index-entry-key.js';
import { keyCodec, type KeyCodec } from '../core/keys/key-codec.js';
import { formatKeyType, parseKeyType, type KeyValue } from '../core/keys/key-type.js';
import type { Limits } from '../core/limits.js';
import { BatchOpCode, DEFAULT_DATABASE, type BatchEntry, type OpName, type OpReply, type OpRequest } from '../core/protocol/messages.js';
import { packList, unpackList } from '../core/wire/packed-list.js';
import { createPartitioner, groupByServer, type Partitioner } from '../partition/partitioner.js';
import { asBuffer, valueBytes, type BytesInput } from './bytes.js';
import { checkKey, limitExceeded } from '../core/protocol/field-checks.js';
import { allParts } from './core/fan-out.js';
import { encodeBounds, serversOfRange } from './core/range-routing.js';
import { resumeAfter } from '../core/protocol/resume-after.js';
import type { KeyInput, RequestOptions, WriteOptions } from './core/options.js';
import { MergedScan } from './merged-scan.js';

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
 */

export type IndexKind = 'global' | 'local';
export type IndexPartitionSpec = HashPartitionSpec | RangePartitionSpec;

export interface CreateIndexOptions {
  kind: IndexKind;
  /** Database of the records (default "default"). */
  primaryDb?: string;
  /** Database holding the index (entries, back-references, its catalog record); may be shared by indexes. */
  indexDb: string;
  /** Type of the secondary keys, text form ('float64', 'string', 'tuple(string,int32)'...). */
  keyType: string;
  /** Global only: the index's own partitioning over encoded secondary keys (default: a hash ring). */
  partition?: IndexPartitionSpec;
}

/** What the catalog record holds; two definitions are the same index when they are equal. */
export interface IndexDefinition {
  name: string;
  kind: IndexKind;
  primaryDb: string;
  indexDb: string;
  /** Canonical text form. */
  keyType: string;
  /** Global indexes only; null for local ones. */
  partition: IndexPartitionSpec | null;
}

export interface OpenIndexOptions extends RequestOptions {
  /** Where to look for the catalog record; default: every database of the group. */
  indexDb?: string;
}

export interface LookupOptions extends RequestOptions {
  /** Most records returned. */
  limit?: number;
}

/** Bounds over secondary keys (values of the index's key type). */
export interface SecondaryRange {
  gt?: KeyValue;
  gte?: KeyValue;
  lt?: KeyValue;
  lte?: KeyValue;
}

/** One match: the secondary key it was found under, the record's key (decoded) and value. */
export interface IndexMatch {
  secondaryKey: KeyValue;
  primaryKey: KeyValue;
  value: Buffer;
}

/** A record's secondary keys under one index, for a write through several (`SecondaryIndex.write`). */
export interface IndexedKeys {
  index: SecondaryIndex;
  /** Values of the index's key type; [] keeps the record out of that index. */
  secondaryKeys: readonly KeyValue[];
}

/** A record's secondary keys under an index, derived from the record (for `build`). */
export type KeyExtractor = (key: KeyValue, value: Buffer) => readonly KeyValue[] | Promise<readonly KeyValue[]>;

export interface BuildOptions extends WriteOptions {
  /** Records read and indexed at a time (default 256, at most scanPageEntriesMax). */
  pageEntries?: number;
  /** Called after every page with the counts so far. */
  onProgress?: (progress: BuildProgress) => void;
}

export interface BuildProgress {
  /** Records read from the primary database. */
  scanned: number;
  /** Records indexed. */
  indexed: number;
  /** Records skipped because they were written or deleted after they were read. */
  skipped: number;
}

/** What a Client lends its indexes: routing, key codecs and raw calls. */
export interface IndexHost {
  readonly group: GroupFile;
  readonly limits: Limits;
  call<O extends OpName>(rank: number, op: O, body: OpRequest<O>, options: RequestOptions): Promise<OpReply<O>>;
  encodeKey(key: KeyInput): Uint8Array;
  decodeKey(bytes: Uint8Array): KeyValue;
  /** Rank owning an encoded primary key. */
  primaryServerFor(key: Uint8Array): number;
}

const DEFAULT_INDEX_PARTITION: HashPartitionSpec = { scheme: 'hash', virtualNodes: 256, seed: 0 };
/** Catalog records live on rank 0 of the index database. */
const CATALOG_RANK = 0;
const EMPTY = Buffer.alloc(0);

function badConfig(message: string, details: Record<string, string> = {}): HpckvError {
  return new HpckvError(ErrorCodes.BAD_CONFIG, message, { details });
}

export class SecondaryIndex {
  readonly definition: IndexDefinition;
  readonly #host: IndexHost;
  readonly #codec: KeyCodec;
  readonly #namespace: Buffer;
  /** The index's own partitioner (global), over encoded secondary keys. */
  readonly #partitioner: Partitioner | null;

  private constructor(host: IndexHost, definition: IndexDefinition) {
    this.#host = host;
    this.definition = definition;
    this.#codec = keyCodec(parseKeyType(definition.keyType));
    this.#namespace = indexNamespace(definition.name);
    this.#partitioner = definition.partition === null ? null : indexPartitioner(definition.partition, host.group.servers.length);
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
    const definition = checkDefinition(host, name, options);
    const elsewhere = (await findCatalog(host, name, undefined, call)).filter((found) => found.indexDb !== definition.indexDb);
    if (elsewhere.length > 0) throw indexExists(definition, elsewhere[0]!);
    const key = catalogKey(indexNamespace(name));
    try {
      await host.call(CATALOG_RANK, 'putIfAbsent', { db: definition.indexDb, key, value: Buffer.from(JSON.stringify(definition)), sync: true }, call);
    } catch (error) {
      if (!isHpckvError(error, ErrorCodes.KEY_EXISTS)) throw error;
      const [stored] = await findCatalog(host, name, definition.indexDb, call);
      if (stored === undefined || JSON.stringify(stored) !== JSON.stringify(definition)) throw indexExists(definition, stored);
    }
    return new SecondaryIndex(host, definition);
  }

  /** Opens an index by name from its catalog record; HPCKV_ERR_UNKNOWN_INDEX when there is none. */
  static async open(host: IndexHost, name: string, options: OpenIndexOptions = {}): Promise<SecondaryIndex> {
    checkName(name);
    if (options.indexDb !== undefined) checkDatabase(host, options.indexDb, 'indexDb');
    const found = await findCatalog(host, name, options.indexDb, options);
    if (found.length !== 1) {
      throw new HpckvError(ErrorCodes.UNKNOWN_INDEX, found.length === 0
        ? `no secondary index "${name}"${options.indexDb === undefined ? '' : ` in database "${options.indexDb}"`}`
        : `secondary index "${name}" is defined in databases ${found.map((d) => d.indexDb).join(', ')}: pass indexDb`,
      { details: { index: name } });
    }
    return new SecondaryIndex(host, found[0]!);
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
    const s = this.#encodeSecondary(secondaryKey);
    return this.#collect(this.#matches({ gte: s, lte: s }, options), options);
  }

  /**
   * The records whose secondary keys lie in `range`, ordered by secondary key then primary key; a
   * record with several secondary keys in the range is returned once per key.
   */
  async lookupRange(range: SecondaryRange, options: LookupOptions = {}): Promise<Array<[KeyValue, Buffer]>> {
    return this.#collect(this.#matches(this.#encodeRange(range), options), options);
  }

  /** Matches of a range one at a time, with the secondary key each was found under (same order as lookupRange). */
  async *scan(range: SecondaryRange = {}, options: LookupOptions = {}): AsyncGenerator<IndexMatch> {
    for await (const match of this.#matches(this.#encodeRange(range), options)) yield match;
  }

  async #collect(matches: AsyncIterable<IndexMatch>, options: LookupOptions): Promise<Array<[KeyValue, Buffer]>> {
    const limit = checkLimit(options.limit);
    const out: Array<[KeyValue, Buffer]> = [];
    if (limit === 0) return out;
    for await (const match of matches) {
      out.push([match.primaryKey, match.value]);
      if (out.length >= limit) break;
    }
    return out;
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
    const { primaryDb, indexDb } = this.definition;
    this.#checkDb(options);
    if (typeof extract !== 'function') throw new TypeError('build needs an extractor (key, value) => secondaryKeys[]');
    if (primaryDb === indexDb) {
      throw new HpckvError(ErrorCodes.BAD_REQUEST, `index "${this.name}" shares database "${primaryDb}" with its records: build cannot tell them apart`,
        { details: { db: primaryDb, index: this.name } });
    }
    const host = this.#host;
    const pageEntries = Math.min(options.pageEntries ?? 256, host.limits.scanPageEntriesMax);
    if (!Number.isSafeInteger(pageEntries) || pageEntries < 1) throw new RangeError('pageEntries must be an integer >= 1');
    const call = callOptions(options);
    const scan = new MergedScan((rank, request) => host.call(rank, 'scan', { db: primaryDb, ...request }, call), {
      range: {}, reverse: false, values: true, limit: Number.POSITIVE_INFINITY, ranks: host.group.servers.map((s) => s.rank),
      planner: () => undefined, firstPageEntries: pageEntries, pageEntries,
      decodeKey: (bytes) => bytes, encodeKey: (key) => key as Uint8Array,
    });
    const progress: BuildProgress = { scanned: 0, indexed: 0, skipped: 0 };
    try {
      for (;;) {
        const page = await scan.nextv(pageEntries);
        if (page.length === 0) return progress;
        const applied = await Promise.all(page.map(async ([key, stored]) => {
          const pk = key as Buffer;
          const value = stored ?? EMPTY;
          const secondaryKeys = await extract(host.decodeKey(pk), value);
          return SecondaryIndex.#writeRecord(host, pk, value, [{ index: this, secondaryKeys }], options, true);
        }));
        progress.scanned += page.length;
        for (const done of applied) { if (done) progress.indexed++; else progress.skipped++; }
        options.onProgress?.({ ...progress });
      }
    } finally {
      await scan.close();
    }
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
    const host = first.#host;
    await SecondaryIndex.#writeRecord(host, host.encodeKey(key), value === null ? null : valueBytes(value, host.limits), parts, options, false);
  }

  /**
   * The write behind put, del, write and build; `ifStored` (build): only while the stored value is
   * `value`, which is not written again. Resolves false when an `ifStored` write changed nothing.
   */
  static async #writeRecord(host: IndexHost, pk: Uint8Array, value: Uint8Array | null, parts: readonly IndexedKeys[],
    options: WriteOptions, ifStored: boolean): Promise<boolean> {
    const primaryDb = SecondaryIndex.#checkParts(host, parts, options);
    const writeId = randomBytes(WRITE_ID_BYTES);
    const sync = options.sync === undefined ? {} : { sync: options.sync };
    const prepared = parts.map(({ index, secondaryKeys }) => ({ index, encoded: index.#encodeAll(pk, writeId, value === null ? [] : secondaryKeys) }));
    const globalOps = (op: (s: Buffer) => BatchEntry, index: SecondaryIndex, keys: readonly Buffer[]): EntryOp[] =>
      index.definition.kind !== 'global' ? [] : keys.map((s) => ({ indexDb: index.definition.indexDb, rank: index.#partitioner!.serverFor(s), op: op(s) }));
    // Global: the new entries go first; they are not live until the back-reference names writeId.
    const fresh = prepared.flatMap(({ index, encoded }) => globalOps((s) => [BatchOpCode.put, entryKey(index.#namespace, s, pk, writeId), EMPTY], index, encoded));
    await sendEntryOps(host, fresh, sync, options);
    const reply = await host.call(host.primaryServerFor(pk), 'indexWrite', {
      db: primaryDb, key: pk, value, writeId, ...sync, ...(ifStored ? { ifStored: true } : {}),
      indexes: prepared.map(({ index, encoded }) => ({
        indexDb: index.definition.indexDb, index: index.#namespace, local: index.definition.kind === 'local', secondaryKeys: encoded,
      })),
    }, options);
    if (!reply.applied) {
      // The record changed since it was read: the new entries will never be live; remove them.
      await sendEntryOps(host, fresh.map((e): EntryOp => ({ ...e, op: [BatchOpCode.del, e.op[1]] })), sync, options);
      return false;
    }
    // The previous writes' entries are dead now (their write ids are no longer current): remove them.
    const old = prepared.flatMap(({ index }, i) => {
      const previous = reply.previous[i];
      if (previous === null || previous === undefined) return [];
      return globalOps((s) => [BatchOpCode.del, entryKey(index.#namespace, s, pk, previous.writeId)], index, previous.secondaryKeys.map(asBuffer));
    });
    await sendEntryOps(host, old, sync, options);
    return true;
  }

  /** A record's secondary keys under this index, encoded and distinct; its entry keys must fit keyBytesMax. */
  #encodeAll(pk: Uint8Array, writeId: Uint8Array, secondaryKeys: readonly KeyValue[]): Buffer[] {
    if (!Array.isArray(secondaryKeys)) throw new TypeError(`secondaryKeys of index "${this.name}" must be an array of secondary keys`);
    const limits = this.#host.limits;
    if (secondaryKeys.length > limits.indexKeysPerRecordMax) {
      throw limitExceeded(ErrorCodes.BATCH_TOO_LARGE, 'indexKeysPerRecordMax', `the secondary keys of index "${this.name}"`,
        secondaryKeys.length, limits.indexKeysPerRecordMax, 'entries', { index: this.name });
    }
    const encoded = distinct(secondaryKeys.map((s) => this.#encodeSecondary(s)));
    for (const s of encoded) checkKey(entryKey(this.#namespace, s, pk, writeId), limits);
    return encoded;
  }

  /** Checks the parts of one indexed write (see `write`) and returns their primary database. */
  static #checkParts(host: IndexHost, parts: readonly IndexedKeys[], options: WriteOptions): string {
    const max = host.limits.indexesPerWriteMax;
    if (parts.length > max) throw limitExceeded(ErrorCodes.BATCH_TOO_LARGE, 'indexesPerWriteMax', 'the indexes of an indexed write', parts.length, max, 'entries');
    const names = new Set<string>();
    for (const part of parts) {
      const index = part?.index;
      if (!(index instanceof SecondaryIndex)) throw new TypeError('every part of an indexed write needs { index: SecondaryIndex, secondaryKeys }');
      if (index.#host.group !== host.group) throw new TypeError('the indexes of one indexed write must be opened by one client');
      const id = `${index.definition.indexDb}\u0000${index.name}`;
      if (names.has(id)) throw new HpckvError(ErrorCodes.BAD_REQUEST, `an indexed write names index "${index.name}" twice`, { details: { index: index.name } });
      names.add(id);
    }
    const primaryDbs = [...new Set(parts.map((part) => part.index.definition.primaryDb))];
    if (primaryDbs.length > 1) {
      throw new HpckvError(ErrorCodes.BAD_REQUEST,
        `an indexed write spans indexes of different primary databases (${primaryDbs.join(', ')}): a record is in one database`,
        { details: { indexes: parts.map((part) => part.index.name).join(','), primaryDbs: primaryDbs.join(',') } });
    }
    parts[0]!.index.#checkDb(options);
    return primaryDbs[0]!;
  }

  /** Matches of an encoded secondary-key range, in entry order (secondary key, then primary key). */
  #matches(bounds: SecondaryBounds, options: LookupOptions): AsyncGenerator<IndexMatch> {
    this.#checkDb(options);
    checkLimit(options.limit);
    const range = entryRange(this.#namespace, bounds);
    return this.definition.kind === 'local' ? this.#localMatches(range, options) : this.#globalMatches(bounds, range, options);
  }

  /** Every server scans its own entries and answers with the live records; pages are merged by entry key. */
  async *#localMatches(range: { gte: Buffer; lt: Buffer }, options: LookupOptions): AsyncGenerator<IndexMatch> {
    const { primaryDb, indexDb } = this.definition;
    const call = callOptions(options);
    const fetch = async (rank: number, after: Buffer | undefined): Promise<Page> => {
      const bounds = after === undefined ? range : resumeAfter<{ gt?: Buffer; gte?: Buffer; lt: Buffer }>(range, after);
      const reply = await this.#host.call(rank, 'indexLookup', { db: primaryDb, indexDb, index: this.#namespace, ...bounds }, call);
      const max = this.#host.limits.scanPageEntriesMax;
      return { keys: unpackList(reply.keys, 'indexLookup keys', max).map((k) => k ?? EMPTY), values: unpackList(reply.values, 'indexLookup values', max), done: reply.done };
    };
    for await (const [entry, value] of mergePages(this.#host.group.servers.map((s) => s.rank), fetch)) {
      const match = this.#match(entry, value);
      if (match !== null) yield match;
    }
  }

  /** The index servers' entries in order, then the records, verified by their servers (`indexGet`). */
  async *#globalMatches(bounds: SecondaryBounds, range: { gte: Buffer; lt: Buffer }, options: LookupOptions): AsyncGenerator<IndexMatch> {
    const { primaryDb, indexDb } = this.definition;
    const call = callOptions(options);
    const limits = this.#host.limits;
    const ranks = indexServers(this.#partitioner!, bounds);
    // Merged over the index servers of the range (correct whether or not their key ranges are disjoint).
    const scan = new MergedScan((rank, request) => this.#host.call(rank, 'scan', { db: indexDb, ...request }, call), {
      range, reverse: false, values: false, limit: Number.POSITIVE_INFINITY, ranks, planner: () => undefined,
      firstPageEntries: Math.min(checkLimit(options.limit), 64, limits.scanPageEntriesMax) || 1,
      pageEntries: limits.scanPageEntriesMax,
      decodeKey: (bytes) => bytes, encodeKey: (key) => key as Uint8Array,
    });
    try {
      for (;;) {
        const batch = (await scan.nextv(limits.scanPageEntriesMax)).map(([key]) => decodeEntryKey(this.#namespace, key as Uint8Array));
        const entries = batch.filter((e) => e !== null);
        if (batch.length === 0) return;
        const values = new Array<Buffer | null>(entries.length).fill(null);
        const byServer = groupByServer({ scheme: 'primary', serverCount: this.#host.group.servers.length, serverFor: (k) => this.#host.primaryServerFor(k) },
          entries.map((e) => e.primaryKey));
        await Promise.all(byServer.map(async (indices, rank) => {
          // A reply answers a prefix of the keys when their values reach scanPageBytesMax: ask again for the rest.
          for (let from = 0; from < indices.length;) {
            const part = indices.slice(from);
            const reply = await this.#host.call(rank, 'indexGet', {
              db: primaryDb, indexDb, index: this.#namespace,
              packedKeys: packList(part.map((i) => entries[i]!.primaryKey)), packedWriteIds: packList(part.map((i) => entries[i]!.writeId)),
            }, call);
            const got = unpackList(reply, 'indexGet reply', part.length);
            if (got.length === 0) throw new HpckvError(ErrorCodes.PROTOCOL, 'indexGet answered no keys');
            got.forEach((value, j) => { values[part[j]!] = value; });
            from += got.length;
          }
        }));
        for (let i = 0; i < entries.length; i++) {
          const value = values[i];
          if (value !== null && value !== undefined) yield this.#decodeMatch(entries[i]!.secondary, entries[i]!.primaryKey, value);
        }
      }
    } finally {
      await scan.close();
    }
  }

  #match(entry: Buffer, value: Buffer | null): IndexMatch | null {
    if (value === null) return null;
    const decoded = decodeEntryKey(this.#namespace, entry);
    return decoded === null ? null : this.#decodeMatch(decoded.secondary, decoded.primaryKey, value);
  }

  #decodeMatch(secondary: Buffer, primaryKey: Buffer, value: Buffer): IndexMatch {
    return { secondaryKey: this.#codec.decode(secondary), primaryKey: this.#host.decodeKey(primaryKey), value };
  }

  #encodeSecondary(key: KeyValue): Buffer {
    const bytes = this.#codec.encode(key);
    checkKey(bytes, this.#host.limits);
    return bytes;
  }

  #encodeRange(range: SecondaryRange): SecondaryBounds {
    return encodeBounds(range, (key) => this.#encodeSecondary(key));
  }

  /** An index has fixed databases; a `db` option other than its primary database is a mistake. */
  #checkDb(options: RequestOptions): void {
    if (options.db !== undefined && options.db !== this.definition.primaryDb) {
      throw new HpckvError(ErrorCodes.BAD_REQUEST,
        `index "${this.name}" indexes database "${this.definition.primaryDb}", not "${options.db}"`, { details: { db: options.db, index: this.name } });
    }
  }
}

/** One batch op on a global index's entries: its database, server and the op. */
interface EntryOp { indexDb: string; rank: number; op: BatchEntry }

/** The ops as one `batch` per (index database, server), all sent at once; the first failure is thrown once all settled. */
async function sendEntryOps(host: IndexHost, ops: readonly EntryOp[], sync: { sync?: boolean }, options: RequestOptions): Promise<void> {
  const batches = new Map<string, { indexDb: string; rank: number; ops: BatchEntry[] }>();
  for (const { indexDb, rank, op } of ops) {
    const id = `${rank}\u0000${indexDb}`;
    const batch = batches.get(id) ?? { indexDb, rank, ops: [] };
    batch.ops.push(op);
    batches.set(id, batch);
  }
  await allParts([...batches.values()].map((b) => host.call(b.rank, 'batch', { db: b.indexDb, ops: b.ops, ...sync }, options)));
}

interface Page { keys: Buffer[]; values: Array<Buffer | null>; done: boolean }

/**
 * Merges paged, sorted per-server streams of (key, value | null) by key; a server's next page is
 * asked for (resuming after its last key) only when its current one is used up.
 */
async function* mergePages(ranks: readonly number[], fetch: (rank: number, after: Buffer | undefined) => Promise<Page>): AsyncGenerator<[Buffer, Buffer | null]> {
  const cursors = await Promise.all(ranks.map(async (rank) => ({ rank, page: await fetch(rank, undefined), at: 0 })));
  for (;;) {
    let best: (typeof cursors)[number] | undefined;
    for (const cursor of cursors) {
      while (cursor.at >= cursor.page.keys.length && !cursor.page.done) {
        cursor.page = await fetch(cursor.rank, cursor.page.keys[cursor.page.keys.length - 1]);
        cursor.at = 0;
      }
      if (cursor.at >= cursor.page.keys.length) continue;
      if (best === undefined || Buffer.compare(cursor.page.keys[cursor.at]!, best.page.keys[best.at]!) < 0) best = cursor;
    }
    if (best === undefined) return;
    const at = best.at++;
    yield [best.page.keys[at]!, best.page.values[at] ?? null];
  }
}

/** The index servers that may hold entries of the bounds: one for one key, in order for a range table, else all. */
function indexServers(partitioner: Partitioner, bounds: SecondaryBounds): number[] {
  if (bounds.gte !== undefined && bounds.lte !== undefined && Buffer.compare(bounds.gte, bounds.lte) === 0) return [partitioner.serverFor(bounds.gte)];
  return serversOfRange(partitioner, bounds);
}

function indexPartitioner(spec: IndexPartitionSpec, serverCount: number): Partitioner {
  try {
    return createPartitioner(spec, serverCount);
  } catch (cause) {
    throw new HpckvError(ErrorCodes.BAD_CONFIG, `bad index partition: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

function checkName(name: string): void {
  if (typeof name !== 'string' || !INDEX_NAME_PATTERN.test(name)) {
    throw badConfig(`index name must match ${String(INDEX_NAME_PATTERN)}, got ${JSON.stringify(String(name)).slice(0, 80)}`, { index: String(name).slice(0, 80) });
  }
}

/** Every server of the group must hold the database (indexes span the whole group). */
function checkDatabase(host: IndexHost, db: string, field: string): void {
  if (typeof db !== 'string' || !host.group.servers.every((server) => server.databases.includes(db))) {
    throw new HpckvError(ErrorCodes.UNKNOWN_DATABASE, `${field}: the group has no database "${String(db)}" on every server`, { details: { db: String(db), field } });
  }
}

function checkDefinition(host: IndexHost, name: string, options: CreateIndexOptions): IndexDefinition {
  checkName(name);
  if (typeof options !== 'object' || options === null) throw new TypeError('createIndex needs options { kind, indexDb, keyType }');
  if (options.kind !== 'global' && options.kind !== 'local') throw badConfig(`index kind must be "global" or "local", got ${String(options.kind)}`);
  const primaryDb = options.primaryDb ?? DEFAULT_DATABASE;
  checkDatabase(host, primaryDb, 'primaryDb');
  checkDatabase(host, options.indexDb, 'indexDb');
  const keyType = formatKeyType(parseKeyType(options.keyType));
  let partition: IndexPartitionSpec | null = null;
  if (options.kind === 'global') {
    const spec = options.partition ?? DEFAULT_INDEX_PARTITION;
    if (spec.scheme !== 'hash' && spec.scheme !== 'range') throw badConfig('an index partition is "hash" or "range"');
    partition = spec.scheme === 'hash'
      ? { scheme: 'hash', virtualNodes: spec.virtualNodes, seed: spec.seed }
      : { scheme: 'range', boundaries: [...spec.boundaries], epoch: spec.epoch };
    indexPartitioner(partition, host.group.servers.length);
  } else if (options.partition !== undefined) {
    throw badConfig('a local index has no partition of its own: its entries live with their records');
  }
  return { name, kind: options.kind, primaryDb, indexDb: options.indexDb, keyType, partition };
}

/** Catalog records of `name`, from one index database or from every database of the group. */
async function findCatalog(host: IndexHost, name: string, indexDb: string | undefined, options: RequestOptions): Promise<IndexDefinition[]> {
  const candidates = indexDb !== undefined ? [indexDb] : host.group.servers[CATALOG_RANK]!.databases;
  const key = catalogKey(indexNamespace(name));
  const found = await Promise.all(candidates.map((db) => host.call(CATALOG_RANK, 'get', { db, key }, callOptions(options))));
  const out: IndexDefinition[] = [];
  found.forEach((bytes, i) => { if (bytes !== null) out.push(parseDefinition(bytes, candidates[i]!)); });
  return out;
}

function parseDefinition(bytes: Uint8Array, db: string): IndexDefinition {
  try {
    const value = JSON.parse(Buffer.from(bytes).toString('utf8')) as IndexDefinition;
    if (typeof value.name === 'string' && (value.kind === 'global' || value.kind === 'local') && value.indexDb === db
      && typeof value.primaryDb === 'string' && typeof value.keyType === 'string') return value;
  } catch { /* reported below */ }
  throw new HpckvError(ErrorCodes.UNKNOWN_INDEX, `the catalog record in database "${db}" is damaged`, { details: { db } });
}

function indexExists(wanted: IndexDefinition, stored: IndexDefinition | undefined): HpckvError {
  return new HpckvError(ErrorCodes.INDEX_EXISTS,
    `secondary index "${wanted.name}" exists with another definition: ${JSON.stringify(stored ?? 'unreadable')}`,
    { details: { index: wanted.name, indexDb: stored?.indexDb ?? null } });
}

function checkLimit(limit: number | undefined): number {
  const value = limit ?? Number.POSITIVE_INFINITY;
  if (!(value >= 0)) throw new RangeError('limit must be >= 0');
  return value;
}

function callOptions(options: RequestOptions): RequestOptions {
  const out: RequestOptions = {};
  if (options.timeoutMs !== undefined) out.timeoutMs = options.timeoutMs;
  if (options.signal !== undefined) out.signal = options.signal;
  return out;
}

function distinct(keys: Buffer[]): Buffer[] {
  const seen = new Set<string>();
  return keys.filter((key) => { const id = key.toString('latin1'); if (seen.has(id)) return false; seen.add(id); return true; });
}

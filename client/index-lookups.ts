/**
 * Lookups of a secondary index: the matches of a range of secondary keys in entry order
 * (secondary key, then primary key), each record verified live by its own server. A local
 * index's servers answer with their live records directly (`indexLookup`), merged here by entry
 * key; a global index's entries are read from its index servers, then the records from theirs
 * (`indexGet`). Apart from the writes: a lookup only reads what they leave, and trusts no entry
 * its record's server does not confirm.
 */
import { ErrorCodes, HpckvError } from '../core/errors.js';
import { decodeEntryKey, entryRange, type DecodedEntry, type SecondaryBounds } from '../core/index-entry-key.js';
import type { KeyValue } from '../core/keys/key-type.js';
import { resumeAfter } from '../core/protocol/resume-after.js';
import { packList, unpackList } from '../core/wire/packed-list.js';
import { callOptions } from './core/call-options.js';
import type { RequestOptions } from './core/options.js';
import { OrderedMerge, type PageRequest } from './core/ordered-merge.js';
import type { Router } from './core/router.js';
import type { IndexLayout } from './index-layout.js';
import type { IndexMatch, LookupOptions } from './index-types.js';
import { MergedScan } from './merged-scan.js';

const EMPTY = Buffer.alloc(0);

/** Matches of an encoded secondary-key range, in entry order (secondary key, then primary key). */
export function indexMatches(layout: IndexLayout, bounds: SecondaryBounds, options: LookupOptions): AsyncGenerator<IndexMatch> {
  layout.checkDb(options);
  checkLimit(options.limit);
  const range = entryRange(layout.namespace, bounds);
  return layout.definition.kind === 'local' ? localMatches(layout, range, options) : globalMatches(layout, bounds, range, options);
}

/** The first `options.limit` matches (all by default) as [primary key, value] pairs. */
export async function collectMatches(matches: AsyncIterable<IndexMatch>, options: LookupOptions): Promise<Array<[KeyValue, Buffer]>> {
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
 * Every server scans its own entries and answers with the live records; pages are merged by
 * entry key. A stale entry comes back with a null value (its key still says where the next page
 * resumes) and is left out. A server's next page is asked for only once its current one is used.
 */
async function* localMatches(layout: IndexLayout, range: { gte: Buffer; lt: Buffer }, options: LookupOptions): AsyncGenerator<IndexMatch> {
  const { primaryDb, indexDb } = layout.definition;
  const host = layout.host;
  const call = callOptions(options);
  const request: PageRequest<Buffer | null> = async (cursor) => {
    const after = cursor.lastKey();
    const bounds = after === undefined ? range : resumeAfter<{ gt?: Buffer; gte?: Buffer; lt: Buffer }>(range, after);
    const reply = await host.call(cursor.rank, 'indexLookup', { db: primaryDb, indexDb, index: layout.namespace, ...bounds }, call);
    const max = host.limits.scanPageEntriesMax;
    return { keys: unpackList(reply.keys, 'indexLookup keys', max, null).map((k) => k ?? EMPTY), values: unpackList(reply.values, 'indexLookup values', max, null), done: reply.done };
  };
  const merge = new OrderedMerge<Buffer | null>(host.router.ranks, false);
  for await (const [entry, value] of merge.entries(request)) {
    const match = matchOf(layout, entry, value ?? null);
    if (match !== null) yield match;
  }
}

/** The index servers' entries in order, then the records, verified by their servers (`indexGet`). */
async function* globalMatches(layout: IndexLayout, bounds: SecondaryBounds, range: { gte: Buffer; lt: Buffer }, options: LookupOptions): AsyncGenerator<IndexMatch> {
  const indexDb = layout.definition.indexDb;
  const call = callOptions(options);
  const limits = layout.host.limits;
  const ranks = indexServers(layout.router!, bounds);
  // Merged over the index servers of the range (correct whether or not their key ranges are disjoint).
  const scan = new MergedScan((rank, request) => layout.host.call(rank, 'scan', { db: indexDb, ...request }, call), {
    range, reverse: false, values: false, limit: Number.POSITIVE_INFINITY, ranks, planner: () => undefined,
    firstPageEntries: Math.min(checkLimit(options.limit), 64, limits.scanPageEntriesMax) || 1,
    pageEntries: limits.scanPageEntriesMax,
    toEntry: (key) => key, encodeKey: (key) => key as Uint8Array,
  });
  try {
    for (;;) {
      const batch = (await scan.nextv(limits.scanPageEntriesMax)).map((key) => decodeEntryKey(layout.namespace, key));
      const entries = batch.filter((e) => e !== null);
      if (batch.length === 0) return;
      const values = await liveValues(layout, entries, call);
      for (let i = 0; i < entries.length; i++) {
        const value = values[i];
        if (value !== null && value !== undefined) yield layout.decodeMatch(entries[i]!.secondary, entries[i]!.primaryKey, value);
      }
    }
  } finally {
    await scan.close();
  }
}

/** The records of global entries, from their servers, which answer null for an entry that is not live. */
async function liveValues(layout: IndexLayout, entries: readonly DecodedEntry[], call: RequestOptions): Promise<Array<Buffer | null>> {
  const { primaryDb, indexDb } = layout.definition;
  const host = layout.host;
  const values = new Array<Buffer | null>(entries.length).fill(null);
  const byServer = host.router.byServer(entries.map((e) => e.primaryKey));
  await Promise.all(byServer.map(async (indices, rank) => {
    // A reply answers a prefix of the keys when their values reach scanPageBytesMax: ask again for the rest.
    for (let from = 0; from < indices.length;) {
      const part = indices.slice(from);
      const reply = await host.call(rank, 'indexGet', {
        db: primaryDb, indexDb, index: layout.namespace,
        packedKeys: packList(part.map((i) => entries[i]!.primaryKey)), packedWriteIds: packList(part.map((i) => entries[i]!.writeId)),
      }, call);
      const got = unpackList(reply, 'indexGet reply', part.length, null);
      if (got.length === 0) throw new HpckvError(ErrorCodes.PROTOCOL, 'indexGet answered no keys');
      got.forEach((value, j) => { values[part[j]!] = value; });
      from += got.length;
    }
  }));
  return values;
}

function matchOf(layout: IndexLayout, entry: Buffer, value: Buffer | null): IndexMatch | null {
  if (value === null) return null;
  const decoded = decodeEntryKey(layout.namespace, entry);
  return decoded === null ? null : layout.decodeMatch(decoded.secondary, decoded.primaryKey, value);
}

/** The index servers that may hold entries of the bounds: one for one key, in order for a range table, else all. */
function indexServers(router: Router, bounds: SecondaryBounds): number[] {
  if (bounds.gte !== undefined && bounds.lte !== undefined && Buffer.compare(bounds.gte, bounds.lte) === 0) return [router.serverFor(bounds.gte)];
  return router.rangeServers(bounds);
}

function checkLimit(limit: number | undefined): number {
  const value = limit ?? Number.POSITIVE_INFINITY;
  if (!(value >= 0)) throw new RangeError('limit must be >= 0');
  return value;
}

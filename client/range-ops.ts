import type { KeyValue } from '../core/keys/key-type.js';
import { DEFAULT_DATABASE, type CursorReply, type KeyRangeWire } from '../core/protocol/messages.js';
import { asBuffer } from './bytes.js';
import { syncOf, type ClientCore } from './core/client-core.js';
import type { IterateOptions, KeyInput, RangeOptions, RequestOptions, WriteOptions } from './core/options.js';
import { MergedScan } from './merged-scan.js';

/**
 * The Client's operations over key order and ranges: cursor steps (first, last, next, prev),
 * merged scans (iterate, getRange) and whole-range count and deleteRange. Each asks the router
 * which servers a range touches (in key order when the partitioning allows) and sends only to
 * those.
 */

/**
 * One cursor step, correct under any partitioning and needing no collective stat flush. A
 * range-partitioned group asks the servers that may hold the answer one after another in key
 * order (usually one round trip); otherwise every server is asked for its candidate and the
 * global one (smallest, or largest with `largest`) kept.
 */
export async function cursorStep(core: ClientCore, op: 'first' | 'last' | 'next' | 'prev', key: Uint8Array | undefined, largest: boolean,
  options: RequestOptions): Promise<[KeyValue, Buffer] | undefined> {
  const db = options.db ?? DEFAULT_DATABASE;
  const ask = (rank: number): Promise<CursorReply> => (key === undefined
    ? core.call(rank, op as 'first' | 'last', { db }, options)
    : core.call(rank, op as 'next' | 'prev', { db, key }, options));
  const range: KeyRangeWire = key === undefined ? {} : largest ? { lt: key } : { gt: key };
  const inOrder = core.router.rangeInOrder(range, largest);
  if (inOrder !== undefined) {
    for (const rank of inOrder) {
      const reply = await ask(rank);
      if (reply !== null) return [core.decodeKey(asBuffer(reply[0])), asBuffer(reply[1])];
    }
    return undefined;
  }
  const replies = await Promise.all(core.router.ranks.map((rank) => ask(rank)));
  let best: [Buffer, Buffer] | undefined;
  for (const reply of replies) {
    if (reply === null) continue;
    const candidate: [Buffer, Buffer] = [asBuffer(reply[0]), asBuffer(reply[1])];
    if (best === undefined) { best = candidate; continue; }
    const order = Buffer.compare(candidate[0], best[0]);
    if (largest ? order > 0 : order < 0) best = candidate;
  }
  return best === undefined ? undefined : [core.decodeKey(best[0]), best[1]];
}

/** A scan's entries: [key, value] pairs, or keys alone when it reads no values (`values: false`). */
export type ScanEntry = KeyValue | [KeyValue, Buffer];

/** A merged scan of a range (Client.iterate): [key, value] pairs, or keys alone with `values: false`. */
export function iterate(core: ClientCore, options: IterateOptions): MergedScan<ScanEntry> {
  const range = core.rangeBounds(options);
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  if (!(limit >= 0)) throw new RangeError('limit must be >= 0');
  const db = options.db ?? DEFAULT_DATABASE;
  const values = options.values !== false;
  const callOptions: RequestOptions = {};
  if (options.timeoutMs !== undefined) callOptions.timeoutMs = options.timeoutMs;
  if (options.signal !== undefined) callOptions.signal = options.signal;
  return new MergedScan(
    (rank, request) => core.call(rank, 'scan', { db, ...request }, callOptions),
    {
      range, reverse: options.reverse === true, values, limit,
      ranks: core.router.ranks,
      planner: (bounds, reverse) => core.router.rangeInOrder(bounds, reverse),
      firstPageEntries: Math.min(options.firstPageEntries ?? 64, core.limits.scanPageEntriesMax),
      pageEntries: core.limits.scanPageEntriesMax,
      // With values every entry has one (a page of values carries each, an empty one as empty bytes).
      toEntry: values ? (key, value): ScanEntry => [core.decodeKey(key), value!] : (key) => core.decodeKey(key),
      encodeKey: (key) => core.encodeKey(key),
    });
}

/** `n` records after (or before) `key`, over as many servers as it takes (Client.getRange). */
export async function getRange(core: ClientCore, key: KeyInput | undefined, n: number, direction: 'next' | 'prev',
  options: RequestOptions): Promise<Array<[KeyValue, Buffer]>> {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`getRange: n must be an integer >= 0, got ${String(n)}`);
  if (direction !== 'next' && direction !== 'prev') throw new TypeError(`getRange: direction must be 'next' or 'prev', got ${String(direction)}`);
  if (n === 0) return [];
  const reverse = direction === 'prev';
  const bound: RangeOptions = key === undefined ? {} : reverse ? { lt: key } : { gt: key };
  const entries = await iterate(core, { ...options, ...bound, reverse, limit: n, firstPageEntries: n }).all();
  return entries as Array<[KeyValue, Buffer]>;
}

/** How many keys a range holds, summed over the servers that may hold them. */
export async function count(core: ClientCore, range: RangeOptions, options: RequestOptions): Promise<number> {
  const body = { db: options.db ?? DEFAULT_DATABASE, ...core.rangeBounds(range) };
  const counts = await Promise.all(core.router.rangeServers(body).map((rank) => core.call(rank, 'count', body, options)));
  return counts.reduce((total, n) => total + n, 0);
}

/** Deletes a range on every server that may hold it; the number deleted. */
export async function deleteRange(core: ClientCore, range: RangeOptions, options: WriteOptions): Promise<number> {
  const body = { db: options.db ?? DEFAULT_DATABASE, ...core.rangeBounds(range), ...syncOf(options) };
  const counts = await Promise.all(core.router.rangeServers(body).map((rank) => core.call(rank, 'deleteRange', body, options)));
  return counts.reduce((total, n) => total + n, 0);
}

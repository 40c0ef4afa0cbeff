import type { KeyValue } from '../core/keys/key-type.js';
import type { KeyRangeWire, ScanReply } from '../core/protocol/messages.js';
import { resumeAfter } from '../core/protocol/resume-after.js';
import { unpackList } from '../core/wire/packed-list.js';
import { OrderedMerge, type MergeCursor, type SortedPage } from './core/ordered-merge.js';

/** One page from one server, unpacked (an absent value as empty bytes). */
type Page = SortedPage<Buffer>;

/** The state of one server's part of the scan. */
type ServerCursor = MergeCursor<Buffer>;

/** Fetches one page of `range` from server `rank` (the client supplies the rpc call). */
export type PageFetcher = (rank: number, request: KeyRangeWire & { reverse: boolean; limit: number; values: boolean }) => Promise<ScanReply>;

/**
 * The servers a scan of `range` visits: in key order when the partitioning keeps each server's
 * keys contiguous (a range table), so they are read one after another; undefined when keys of
 * the range interleave across servers (hash, or many MDHIM slices) and all of them are merged.
 */
export type ScanPlanner = (range: KeyRangeWire, reverse: boolean) => number[] | undefined;

export interface MergedScanOptions<E> {
  range: KeyRangeWire;
  /** Every server of the group, for a merged scan. */
  ranks: readonly number[];
  planner: ScanPlanner;
  reverse: boolean;
  values: boolean;
  /** Most entries the whole scan returns. */
  limit: number;
  /** Entries in each server's first page: small, so a scan stopped early costs little. */
  firstPageEntries: number;
  /** Entries in later pages (read ahead while the current page is consumed). */
  pageEntries: number;
  /**
   * Turns a stored key and its value (undefined when values are not read) into the entry the
   * caller sees: [key, value] with values, the key alone without (Client.iterate).
   */
  toEntry: (key: Buffer, value: Buffer | undefined) => E;
  /** Turns a caller's key into its stored bytes (for seek). */
  encodeKey: (key: KeyValue) => Uint8Array;
}

function unpackPage(reply: ScanReply, itemsMax: number): Page {
  const keys = unpackList(reply.keys, 'scan keys', itemsMax, null).map((k) => k ?? Buffer.alloc(0));
  const values = reply.values === null ? null : unpackList(reply.values, 'scan values', itemsMax, null).map((v) => v ?? Buffer.alloc(0));
  return { keys, values, done: reply.done };
}

/**
 * A scan over many servers in global key order, each server read in bounded pages; the next
 * page of a server is requested while its current page is being consumed. Two plans:
 * - merged: a hash group holds keys of every range on every server, so all servers are asked
 *   in parallel and their heads merged by key;
 * - ordered: a range-partitioned group keeps each server's keys contiguous, so the servers of
 *   the range are read one after another (the next one's first page requested as the current
 *   one's last page arrives) and a scan that stops early never touches the servers after it.
 * Its entries `E` are what `toEntry` makes of each stored key and value: [key, value] pairs, or
 * keys alone for a scan that reads no values.
 */
export class MergedScan<E> implements AsyncIterableIterator<E> {
  /** The servers the scan reads, a cursor each, and the merge of their heads; set by plan(). */
  private merge = new OrderedMerge<Buffer>([], false);
  /** Ordered plan: cursors are read one after another, from `active` on. */
  private ordered = false;
  private active = 0;
  private readonly fetch: PageFetcher;
  private readonly options: MergedScanOptions<E>;
  private returned = 0;
  private started = false;
  private closed = false;
  /** The range still to read: the caller's, narrowed by seek(). */
  private range: KeyRangeWire;

  constructor(fetch: PageFetcher, options: MergedScanOptions<E>) {
    this.fetch = fetch;
    this.options = options;
    this.range = { ...options.range };
  }

  /** Which servers the scan reads, and how; done again after a seek (the range changed). */
  private plan(): void {
    const inOrder = this.options.planner(this.range, this.options.reverse);
    this.ordered = inOrder !== undefined;
    this.active = 0;
    this.merge = new OrderedMerge(inOrder ?? this.options.ranks, this.options.reverse);
  }

  /**
   * Moves the scan so the next entry is the first at or after `key` (at or before it when
   * reversed), within the original range. Pages already fetched are dropped.
   */
  seek(key: KeyValue): void {
    if (this.closed) return;
    const target = Buffer.from(this.options.encodeKey(key));
    const range: KeyRangeWire = { ...this.options.range };
    if (this.options.reverse) {
      const upper = range.lt ?? range.lte;
      if (upper === undefined || Buffer.compare(target, upper) < 0) { delete range.lt; range.lte = target; }
    } else {
      const lower = range.gt ?? range.gte;
      if (lower === undefined || Buffer.compare(target, lower) > 0) { delete range.gt; range.gte = target; }
    }
    this.range = range;
    this.dropReadAhead();
    this.started = false;
  }

  /** Ends the scan; later calls return nothing. */
  async close(): Promise<void> {
    this.finish();
  }

  private request(cursor: ServerCursor, entries: number): Promise<Page> {
    const { reverse, values } = this.options;
    const last = cursor.lastKey();
    const bounds: KeyRangeWire = last === undefined ? this.range : resumeAfter(this.range, last, reverse);
    // Never ask for more than the scan can still return (a getRange of 10 reads 10, not a page).
    const limit = Math.max(1, Math.min(entries, this.options.limit - this.returned));
    return this.fetch(cursor.rank, { ...bounds, reverse, limit, values })
      .then((reply) => unpackPage(reply, entries));
  }

  private ensureHead(cursor: ServerCursor): Promise<void> {
    return OrderedMerge.loadHead(cursor,
      (c) => this.request(c, c.page === null ? this.options.firstPageEntries : this.options.pageEntries),
      (c) => this.readAhead(c));
  }

  /** As a server's page arrives: its next page is asked for, or the next server's first one after its last page. */
  private readAhead(cursor: ServerCursor): void {
    if (cursor.page!.done) this.readAheadNextServer(cursor);
    else if (this.wantsMoreThan(cursor.page!.keys.length)) cursor.ahead = this.request(cursor, this.options.pageEntries);
  }

  /** Ordered plan: once a server's last page is in, the next server's first page is asked for. */
  private readAheadNextServer(cursor: ServerCursor): void {
    if (!this.ordered || cursor !== this.merge.cursors[this.active] || !this.wantsMoreThan(cursor.buffered())) return;
    const following = this.merge.cursors[this.active + 1];
    if (following !== undefined && following.page === null && following.ahead === null) {
      following.ahead = this.request(following, this.options.pageEntries);
    }
  }

  /** Whether the scan's limit leaves room for more than `buffered` further entries. */
  private wantsMoreThan(buffered: number): boolean {
    return this.options.limit - this.returned > buffered;
  }

  /** Ordered plan: the active cursor with its head loaded, moving on to the next server at its end. */
  private async activeCursor(): Promise<ServerCursor | undefined> {
    while (this.active < this.merge.cursors.length) {
      const cursor = this.merge.cursors[this.active]!;
      await this.ensureHead(cursor);
      if (cursor.hasHead()) return cursor;
      this.active++;
    }
    return undefined;
  }

  next(): Promise<IteratorResult<E>> {
    const entry = this.takeBuffered();
    return entry === undefined ? this.nextAfterIo() : Promise.resolve({ value: entry, done: false });
  }

  /**
   * The next entry when it is already in a fetched page and known to be next (no await, no
   * request): in an ordered scan the active server's page; in a merged one only while every
   * server's head is known. Undefined when the slow path must fetch or finish.
   */
  private takeBuffered(): E | undefined {
    if (!this.started || this.closed || this.returned >= this.options.limit) return undefined;
    const next = this.ordered ? this.merge.cursors[this.active] : this.merge.next();
    if (next === undefined || next === 'wait' || !next.hasHead()) return undefined;
    return this.take(next);
  }

  private take(cursor: ServerCursor): E {
    const entry = this.options.toEntry(cursor.headKey(), cursor.headValue());
    cursor.at++;
    this.returned++;
    return entry;
  }

  private async nextAfterIo(): Promise<IteratorResult<E>> {
    if (this.closed || this.returned >= this.options.limit) return this.finish();
    if (!this.started) {
      this.started = true;
      this.plan();
    }
    if (this.ordered) {
      const cursor = await this.activeCursor();
      return cursor === undefined ? this.finish() : { value: this.take(cursor), done: false };
    }
    // A merged scan must know every server's head before it can pick the next entry.
    await Promise.all(this.merge.cursors.map((c) => this.ensureHead(c)));
    const entry = this.takeBuffered();
    return entry === undefined ? this.finish() : { value: entry, done: false };
  }

  /** Up to `n` entries (fewer only at the end). */
  async nextv(n: number): Promise<E[]> {
    const out: E[] = [];
    while (out.length < n) {
      const buffered = this.takeBuffered();
      if (buffered !== undefined) { out.push(buffered); continue; }
      const step = await this.nextAfterIo();
      if (step.done === true) break;
      out.push(step.value);
    }
    return out;
  }

  /** Every remaining entry. */
  async all(): Promise<E[]> {
    return this.nextv(Number.MAX_SAFE_INTEGER);
  }

  private finish(): IteratorResult<E> {
    this.closed = true;
    this.dropReadAhead();
    return { value: undefined, done: true };
  }

  /** Pages requested ahead are dropped; their errors must not surface as unhandled rejections. */
  private dropReadAhead(): void {
    for (const cursor of this.merge.cursors) { cursor.ahead?.catch(() => undefined); cursor.ahead = null; }
  }

  async return(): Promise<IteratorResult<E>> {
    return this.finish();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

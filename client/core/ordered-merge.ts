/**
 * The one k-way merge of per-server sorted pages. Every read that combines several servers'
 * sorted answers into one key order goes through it: scans and cursors (`client/merged-scan.ts`),
 * a local index's lookups (`client/index-lookups.ts`) and a scan into a region, which merges the
 * servers' staged runs (`client/region-push.ts`). So the choice of the next entry, and when
 * it cannot be made yet, is written once.
 *
 * The merge gets pages only through the caller's request and does not read values: each caller
 * asks its servers its own way (with read-ahead or without, with its timeout and abort signal) and
 * keeps its own values (a scan's bytes, an index lookup's null for a stale entry, a staged run's
 * value sizes).
 */

/** One page of one server's sorted stream: its keys in scan order, their values (null: not asked for), and whether the stream ends with it. */
export interface SortedPage<V> {
  readonly keys: readonly Buffer[];
  readonly values: readonly V[] | null;
  readonly done: boolean;
}

/** A request for a cursor's next page (its `lastKey` says where the stream resumes). */
export type PageRequest<V> = (cursor: MergeCursor<V>) => Promise<SortedPage<V>>;

/** One server's place in the merge: its current page, its head's index in it and a page requested ahead. */
export class MergeCursor<V> {
  page: SortedPage<V> | null = null;
  at = 0;
  /** The next page, when the caller requested it before the current one was used up (read-ahead). */
  ahead: Promise<SortedPage<V>> | null = null;

  constructor(readonly rank: number) {}

  /** Whether the head is in a loaded page. */
  hasHead(): boolean {
    return this.page !== null && this.at < this.page.keys.length;
  }

  /** Entries of the current page not taken yet. */
  buffered(): number {
    return this.page === null ? 0 : this.page.keys.length - this.at;
  }

  /** The current page's last key, after which the stream's next page starts; undefined before the first page (or after an empty one). */
  lastKey(): Buffer | undefined {
    return this.page?.keys[this.page.keys.length - 1];
  }

  /** The head's key; only while `hasHead()`. */
  headKey(): Buffer {
    return this.page!.keys[this.at]!;
  }

  /** The head's value (undefined when the page carries none); only while `hasHead()`. */
  headValue(): V | undefined {
    return this.page!.values?.[this.at];
  }

  /** The head as [key, value], moving past it; only while `hasHead()`. */
  take(): [Buffer, V | undefined] {
    const entry: [Buffer, V | undefined] = [this.headKey(), this.headValue()];
    this.at++;
    return entry;
  }
}

/**
 * The servers' cursors of one read and the choice of the next entry among their heads: the
 * smallest key, the largest when `reverse`; between equal keys, the cursor listed first.
 */
export class OrderedMerge<V> {
  readonly cursors: ReadonlyArray<MergeCursor<V>>;

  constructor(ranks: readonly number[], readonly reverse: boolean) {
    this.cursors = ranks.map((rank) => new MergeCursor<V>(rank));
  }

  /**
   * The cursor whose head comes next in scan order; 'wait' when a server whose stream has not
   * ended has no head loaded (it may hold the next entry), even if other heads are loaded;
   * undefined when every stream ended.
   */
  next(): MergeCursor<V> | 'wait' | undefined {
    let best: MergeCursor<V> | undefined;
    for (const cursor of this.cursors) {
      if (!cursor.hasHead()) {
        if (cursor.page?.done === true) continue;
        return 'wait';
      }
      if (best === undefined) { best = cursor; continue; }
      const order = Buffer.compare(cursor.headKey(), best.headKey());
      if (this.reverse ? order > 0 : order < 0) best = cursor;
    }
    return best;
  }

  /**
   * Loads pages into `cursor` until it has a head or its stream ended: the page requested ahead
   * when there is one, else `request(cursor)`. `arrived` sees each page as it comes in (to
   * request the next one ahead).
   */
  static async loadHead<V>(cursor: MergeCursor<V>, request: PageRequest<V>, arrived?: (cursor: MergeCursor<V>) => void): Promise<void> {
    while (!cursor.hasHead()) {
      if (cursor.page?.done === true) return;
      const next = cursor.ahead ?? request(cursor);
      cursor.ahead = null;
      cursor.page = await next;
      cursor.at = 0;
      arrived?.(cursor);
    }
  }

  /**
   * Every entry of the servers' streams in scan order, asking a server for its next page (with
   * `request`) only once its current one is used up: no read-ahead, so a reader that stops early
   * costs the servers no page it did not use. The first pages are asked for all at once.
   */
  async *entries(request: PageRequest<V>): AsyncGenerator<[Buffer, V | undefined]> {
    await Promise.all(this.cursors.map((cursor) => OrderedMerge.loadHead(cursor, request)));
    for (;;) {
      for (const cursor of this.cursors) await OrderedMerge.loadHead(cursor, request);
      const cursor = this.next();
      // Never 'wait' here: every cursor has its head loaded or its stream ended.
      if (cursor === undefined || cursor === 'wait') return;
      yield cursor.take();
    }
  }
}

import { AbstractIterator } from 'abstract-level';
import type { RangeOptions } from './core/options.js';
import type { MergedScan } from './merged-scan.js';
import type { ScanEntry } from './range-ops.js';
import { LevelAbortError, toLevelError } from './hpc-level-errors.js';
import { dataBytes, fromBytes, type KeySpace, type LevelData, type LevelRange } from './hpc-level-keys.js';

/** What an iterator needs of its database: the key space and a scan of stored keys. */
export interface LevelScanSource {
  readonly space: KeySpace;
  /**
   * A paged scan of `range` (stored keys) over the group, read ahead, with keys as stored:
   * [key, value] entries with `values`, keys alone without (Client.iterate).
   */
  scan(range: RangeOptions, options: { reverse: boolean; limit: number; values: boolean; signal?: AbortSignal }): MergedScan<ScanEntry>;
}

/** The options abstract-level hands `_iterator` (range already encoded, encodings as format names). */
export interface LevelIteratorOptions extends LevelRange {
  reverse: boolean;
  keys: boolean;
  values: boolean;
  /** -1 for none. */
  limit: number;
  keyEncoding: string;
  valueEncoding: string;
  signal?: AbortSignal | null;
}

type Entry = [LevelData | undefined, LevelData | undefined];

/**
 * An abstract-level iterator over an hpckv paged cursor (client.iterate: every server read in
 * bounded pages, the next page requested while the current one is consumed). There is no
 * snapshot: writes made while it runs may or may not be seen. `seek` starts a new scan from the
 * target, within the iterator's range; `signal` aborts the call in progress (LEVEL_ABORTED).
 */
export class HpcLevelIterator<TDatabase extends object> extends AbstractIterator<TDatabase, LevelData, LevelData> {
  private readonly source: LevelScanSource;
  private readonly options: LevelIteratorOptions;
  private readonly signal: AbortSignal | undefined;
  private scan: MergedScan<ScanEntry>;

  constructor(db: TDatabase, source: LevelScanSource, options: LevelIteratorOptions) {
    super(db, options as never);
    this.source = source;
    this.options = options;
    this.signal = options.signal ?? undefined;
    this.scan = this.open(options);
  }

  /** A scan of the iterator's range narrowed to `range` (the seek target), for what the limit leaves. */
  private open(range: LevelRange): MergedScan<ScanEntry> {
    const { reverse, values, limit } = this.options;
    const remaining = limit < 0 ? Number.POSITIVE_INFINITY : Math.max(0, limit - this.count);
    return this.source.scan(this.source.space.range(range), {
      reverse, values, limit: remaining, ...(this.signal === undefined ? {} : { signal: this.signal }),
    });
  }

  /** A scan entry as abstract-level wants it; the scan reads values only when the iterator asked for them. */
  private entry(scanned: ScanEntry): Entry {
    const { keys, values, keyEncoding, valueEncoding } = this.options;
    // A level's group stores bytes, so its keys decode to Buffers.
    const [stored, value] = values ? scanned as [Buffer, Buffer] : [scanned as Buffer, undefined];
    return [
      keys ? fromBytes(this.source.space.strip(stored), keyEncoding) : undefined,
      value !== undefined ? fromBytes(value, valueEncoding) : undefined,
    ];
  }

  async _next(): Promise<Entry | undefined> {
    const step = await this.guard(this.scan.next());
    return step.done === true ? undefined : this.entry(step.value);
  }

  async _nextv(size: number): Promise<Entry[]> {
    return (await this.guard(this.scan.nextv(size))).map((entry) => this.entry(entry));
  }

  async _all(): Promise<Entry[]> {
    return (await this.guard(this.scan.all())).map((entry) => this.entry(entry));
  }

  /** The next entry is the first at or after `target` (at or before it when reversed), within the range. */
  _seek(target: LevelData): void {
    void this.scan.close();
    const { gt, gte, lt, lte, reverse } = this.options;
    const bytes = dataBytes(target);
    const range: LevelRange = { ...boundOf('gt', gt), ...boundOf('gte', gte), ...boundOf('lt', lt), ...boundOf('lte', lte) };
    if (reverse) {
      // lte wins over lt (and gte over gt) when both are given, as in KeySpace.range.
      const upper = lte ?? lt;
      if (upper === undefined || Buffer.compare(bytes, dataBytes(upper)) < 0) { delete range.lt; range.lte = bytes; }
    } else {
      const lower = gte ?? gt;
      if (lower === undefined || Buffer.compare(bytes, dataBytes(lower)) > 0) { delete range.gt; range.gte = bytes; }
    }
    this.scan = this.open(range);
  }

  async _close(): Promise<void> {
    await this.scan.close();
  }

  /** `work`, rejected with LEVEL_ABORTED as soon as the signal aborts; hpckv errors as LEVEL_* errors. */
  private guard<T>(work: Promise<T>): Promise<T> {
    const signal = this.signal;
    if (signal === undefined) return work.catch((error: unknown) => { throw toLevelError(error); });
    if (signal.aborted) {
      work.catch(() => undefined);
      return Promise.reject(new LevelAbortError());
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(new LevelAbortError());
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        (value) => { signal.removeEventListener('abort', onAbort); resolve(value); },
        (error: unknown) => { signal.removeEventListener('abort', onAbort); reject(toLevelError(error)); },
      );
    });
  }
}

function boundOf(name: keyof LevelRange, value: LevelData | undefined): LevelRange {
  return value === undefined ? {} : { [name]: value };
}

import type { ClassicLevel } from 'classic-level';
import { ErrorCodes, HpckvError } from '../core/errors.js';
import type { DatabaseStartup, DatabaseStats } from '../core/protocol.js';
import { BackgroundCount } from './background-count.js';
import { KeyFilter } from './key-filter.js';
import { storeError } from './store-error.js';
import { removeStoreSummary, writeStoreSummary, type SummaryRejection } from './store-summary.js';
import type { StoreSummary } from './summary-format.js';

/**
 * How a database comes to know its store's stats and keys when it opens, so that opening costs
 * about the same at any size: from the summary its last clean close wrote (a read of about
 * 3 bytes per key for the filter), or else from a count in the background (BackgroundCount)
 * while it serves. Until that count ends the filter is incomplete, so `keysKnown` is false and
 * writes read every old value (exact deltas, the slower path), and stats wait (`whenExact`).
 */
export class StoreStartup {
  /** Running totals: the summary's or the count's, plus every applied write's delta. */
  readonly stats: DatabaseStats;
  readonly filter: KeyFilter;
  readonly #name: string;
  readonly #summary: DatabaseStartup['summary'];
  readonly #count: BackgroundCount | null;
  #statsReadyMs: number | null = null;

  private constructor(name: string, summary: DatabaseStartup['summary'], stats: DatabaseStats, filter: KeyFilter,
    count: BackgroundCount | null, openedAt: number) {
    this.#name = name;
    this.#summary = summary;
    this.stats = stats;
    this.filter = filter;
    this.#count = count;
    if (count === null) this.#statsReadyMs = performance.now() - openedAt;
    void count?.done.then((outcome) => { if ('counted' in outcome) this.#statsReadyMs = performance.now() - openedAt; });
  }

  /**
   * Call once LevelDB has opened the store and before it takes a write. `summary` was read before
   * LevelDB opened it (readStoreSummary). The summary file is removed, durably, whatever it held:
   * the first write makes it stale, and a crash must never find it. `countGate` holds the count
   * (a test hook); `openedAt` is when the open began (performance.now()).
   */
  static async begin(db: ClassicLevel<Buffer, Buffer>, name: string, location: string, summary: StoreSummary | SummaryRejection,
    options: { countGate?: Promise<void>; openedAt: number }): Promise<StoreStartup> {
    await removeStoreSummary(location);
    if (typeof summary !== 'string') return new StoreStartup(name, 'loaded', { ...summary.stats }, summary.filter, null, options.openedAt);
    const stats: DatabaseStats = { records: 0, keyBytes: 0, valueBytes: 0 };
    const filter = new KeyFilter();
    if (summary === 'new') return new StoreStartup(name, summary, stats, filter, null, options.openedAt);
    const count = new BackgroundCount(db, filter, stats, options.countGate ?? Promise.resolve());
    return new StoreStartup(name, summary, stats, filter, count, options.openedAt);
  }

  /** False while the count runs: the filter may lack stored keys, so it cannot rule one out. */
  get keysKnown(): boolean {
    return this.#count === null || !this.#count.running;
  }

  /**
   * Null when `stats` is exact now; else a promise that resolves when it is (the count ended) or
   * rejects (the count failed, or was stopped by close).
   */
  whenExact(): Promise<void> | null {
    if (this.#count === null || !this.#count.running) return null;
    return this.#count.done.then((outcome) => {
      if ('failed' in outcome) throw storeError(outcome.failed, this.#name, 'count records');
      if ('stopped' in outcome) {
        throw new HpckvError(ErrorCodes.SHUTTING_DOWN, `database "${this.#name}" closed before its records were counted`,
          { details: { db: this.#name } });
      }
    });
  }

  /** How the stats were obtained; `statsReadyMs` is -1 while the count runs. */
  get report(): DatabaseStartup {
    return { summary: this.#summary, statsReadyMs: this.#statsReadyMs === null ? -1 : Math.round(this.#statsReadyMs) };
  }

  /** Ends a count still running (before the store closes: its iterator must close first). */
  async stopCounting(): Promise<void> {
    await this.#count?.stop();
  }

  /**
   * After the store closed cleanly with every write accounted for: saves the stats and filter
   * for the next open, when they are exact. A summary that cannot be written costs the next
   * open a count, nothing else, so the failure is reported on stderr and close goes on.
   */
  async saveSummary(location: string): Promise<void> {
    if (!this.keysKnown) return;
    try {
      await writeStoreSummary(location, { stats: this.stats, filter: this.filter });
    } catch (error) {
      process.stderr.write(`hpckv: database "${this.#name}": summary not written (the next open counts its records): ${String(error)}\n`);
    }
  }
}

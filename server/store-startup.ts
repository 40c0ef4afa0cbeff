import type { ClassicLevel } from 'classic-level';
import { ErrorCodes, HpckvError } from '../core/errors.js';
import type { DatabaseStartup, DatabaseStats } from '../core/protocol/messages.js';
import { BackgroundCount } from './background-count.js';
import { KeyFilter } from './key-filter.js';
import { storeError } from './store-error.js';
import { OpenedSummary, removeStoreSummary, writeStoreSummary, type SummaryRejection } from './store-summary.js';

/**
 * How a database comes to know its store's stats and keys when it opens, so that opening costs
 * the same at any size and the database serves at once:
 *
 * - from the summary its last clean close wrote: the stats at once (its header), the key filter
 *   read in the background (about 4 bytes per key) while adds are deferred;
 * - else (a crash, or a summary that does not fit the store) from a count of the records in the
 *   background (BackgroundCount), stats and keys together.
 *
 * Until the filter holds every stored key `keysKnown` is false and writes read every old value
 * (exact deltas, the slower path); until the stats are exact, stats wait (`whenExact`).
 */
export class StoreStartup {
  /** Running totals: the summary's or the count's, plus every applied write's delta. */
  readonly stats: DatabaseStats;
  readonly filter = new KeyFilter();
  readonly #name: string;
  readonly #summary: DatabaseStartup['summary'];
  readonly #openedAt: number;
  /**
   * Counts the records: stats and keys when there was no usable summary; only keys when the
   * summary's filter turned out damaged (until then it stands by, its snapshot taken at open).
   */
  #count: BackgroundCount | null = null;
  #filterLoad: Promise<void> | null = null;
  #statsReadyMs: number | null = null;
  #keysReadyMs: number | null = null;
  #keysWaiters: Array<(known: boolean) => void> = [];

  private constructor(name: string, summary: DatabaseStartup['summary'], stats: DatabaseStats, openedAt: number) {
    this.#name = name;
    this.#summary = summary;
    this.stats = stats;
    this.#openedAt = openedAt;
  }

  /**
   * Call once LevelDB has opened the store and before it takes a write. `summary` was read before
   * LevelDB opened it (readStoreSummary). The summary file is removed, durably, whatever it held:
   * the first write makes it stale, and a crash must never find it. `countGate` holds a count of
   * the records (a test hook); `openedAt` is when the open began (performance.now()).
   */
  static async begin(db: ClassicLevel<Buffer, Buffer>, name: string, location: string, summary: OpenedSummary | SummaryRejection,
    options: { countGate?: Promise<void>; openedAt: number }): Promise<StoreStartup> {
    try {
      await removeStoreSummary(location);
    } catch (error) {
      if (summary instanceof OpenedSummary) await summary.close();
      throw error;
    }
    if (summary instanceof OpenedSummary) {
      const startup = new StoreStartup(name, 'loaded', { ...summary.stats }, options.openedAt);
      startup.#statsReady();
      startup.#loadFilter(db, summary);
      return startup;
    }
    const startup = new StoreStartup(name, summary, { records: 0, keyBytes: 0, valueBytes: 0 }, options.openedAt);
    if (summary === 'new') {
      startup.#statsReady();
      startup.#keysReady();
      return startup;
    }
    const count = new BackgroundCount(db, startup.filter, startup.stats, options.countGate ?? Promise.resolve());
    startup.#count = count;
    void count.done.then((outcome) => {
      if (!('counted' in outcome)) return startup.#keysNeverKnown();
      startup.#statsReady();
      startup.#keysReady();
    });
    return startup;
  }

  /** False until the filter holds every stored key: until then it cannot rule a key out. */
  get keysKnown(): boolean {
    return this.#keysReadyMs !== null;
  }

  /** Resolves true once the filter holds every stored key, false if that never happens (closed first, count failed). */
  whenKeysKnown(): Promise<boolean> {
    if (this.keysKnown) return Promise.resolve(true);
    return new Promise((resolve) => this.#keysWaiters.push(resolve));
  }

  /**
   * Null when `stats` is exact now; else a promise that resolves when it is (the count ended) or
   * rejects (the count failed, or was stopped by close).
   */
  whenExact(): Promise<void> | null {
    if (this.#statsReadyMs !== null || this.#count === null) return null;
    return this.#count.done.then((outcome) => {
      if ('failed' in outcome) throw storeError(outcome.failed, this.#name, 'count records');
      if ('stopped' in outcome) {
        throw new HpckvError(ErrorCodes.SHUTTING_DOWN, `database "${this.#name}" closed before its records were counted`,
          { details: { db: this.#name } });
      }
    });
  }

  /** How the stats and keys were obtained; a time is -1 until then. */
  get report(): DatabaseStartup {
    const ms = (value: number | null): number => (value === null ? -1 : Math.round(value));
    return { summary: this.#summary, statsReadyMs: ms(this.#statsReadyMs), keysReadyMs: ms(this.#keysReadyMs) };
  }

  /** Ends the work still running (before the store closes: a count's iterator must close first). */
  async stopBackground(): Promise<void> {
    await this.#filterLoad; // one read of a file: not worth cutting short
    await this.#count?.stop();
    this.#keysNeverKnown();
  }

  /**
   * After the store closed cleanly with every write accounted for: saves the stats and filter
   * for the next open, when they are exact. A summary that cannot be written costs the next
   * open a count, nothing else, so the failure is reported on stderr and close goes on.
   */
  async saveSummary(location: string): Promise<void> {
    if (!this.keysKnown || this.#statsReadyMs === null) return;
    try {
      await writeStoreSummary(location, { stats: this.stats, filter: this.filter.toLayers() });
    } catch (error) {
      process.stderr.write(`hpckv: database "${this.#name}": summary not written (the next open counts its records): ${String(error)}\n`);
    }
  }

  /**
   * Reads the summary's filter in the background, adds deferred meanwhile. A count of the keys
   * stands by from a snapshot taken now, before any write: should the layers be damaged, it
   * finds the keys stored at open, and the writes since added theirs.
   */
  #loadFilter(db: ClassicLevel<Buffer, Buffer>, summary: OpenedSummary): void {
    this.filter.deferAdds();
    let damaged: () => void = () => undefined;
    const keysOnly: DatabaseStats = { records: 0, keyBytes: 0, valueBytes: 0 };
    const standby = new BackgroundCount(db, this.filter, keysOnly, new Promise<void>((resolve) => { damaged = resolve; }));
    this.#count = standby;
    void standby.done.then((outcome) => ('counted' in outcome ? this.#keysReady() : this.#keysNeverKnown()));
    this.#filterLoad = summary.readFilter().catch(() => 'corrupt' as const).then(async (layers) => {
      if (layers !== 'corrupt' && this.filter.adoptLayers(layers)) {
        this.#keysReady();
        this.#count = null;
        await standby.stop();
      } else {
        this.filter.applyDeferredAdds();
        damaged();
      }
    });
  }

  #statsReady(): void {
    this.#statsReadyMs ??= performance.now() - this.#openedAt;
  }

  #keysReady(): void {
    this.#keysReadyMs ??= performance.now() - this.#openedAt;
    this.#settleKeysWaiters(true);
  }

  #keysNeverKnown(): void {
    if (!this.keysKnown) this.#settleKeysWaiters(false);
  }

  #settleKeysWaiters(known: boolean): void {
    const waiters = this.#keysWaiters;
    this.#keysWaiters = [];
    for (const resolve of waiters) resolve(known);
  }
}

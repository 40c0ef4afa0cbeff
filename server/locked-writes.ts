import { HpckvError } from '../core/errors.js';
import type { DatabaseStats } from '../core/protocol/messages.js';
import { GroupCommit, type BatchingStore, type CommitBatch, type StagedOps } from './group-commit.js';
import type { InFlightWork } from './in-flight-work.js';
import { KeyLocks, type Lease } from './key-locks.js';
import type { StatsDelta } from './stats-delta.js';
import { storeError } from './store-error.js';

/** A write's operations, ready to join a group commit, and what the write answers once committed. */
export interface StagedWrite<T> {
  delta: StatsDelta;
  /** Keys and values, in bytes. */
  bytes: number;
  sync: boolean;
  /** What joins its group's batch; or `staged`, a batch of its own already filled. */
  ops?: StagedOps;
  staged?: CommitBatch;
  result: T;
}

/**
 * The path of every write to one database: its key locks, then a group commit, then its stats
 * delta. A write's delta is counted only once LevelDB applied it, so the stats always describe
 * what reads see.
 */
export class LockedWrites {
  readonly #db: string;
  readonly #stats: DatabaseStats;
  readonly #work: InFlightWork;
  readonly #locks = new KeyLocks();
  /** Writes staged together and written as one LevelDB batch. */
  readonly #groups: GroupCommit;
  #failed = false;

  /** `stats` are the database's running totals; `work` counts each write from acceptance to its answer. */
  constructor(db: string, store: BatchingStore, writeGroupBytesMax: number, stats: DatabaseStats, work: InFlightWork) {
    this.#db = db;
    this.#stats = stats;
    this.#work = work;
    this.#groups = new GroupCommit(store, writeGroupBytesMax);
  }

  /** A LevelDB write failed: its log may hold a record the stats do not count. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Groups of writes committed so far and the writes in them (how well writes are grouped). */
  get groups(): { groups: number; writes: number } {
    return { groups: this.#groups.groupsWritten, writes: this.#groups.membersWritten };
  }

  /**
   * Runs `stageWrite` holding the locks of `ids`: at once when they are free (so an uncontended
   * write reads and stages its operations in the caller's turn), else after earlier holders
   * finish. Its operations then join a group commit (server/group-commit.ts); the stats delta is
   * counted and the locks released once the group is written. One promise per write.
   */
  run<T>(ids: readonly string[], action: string, stageWrite: (lease: Lease) => StagedWrite<T>): Promise<T> {
    const refusal = this.#work.refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    this.#work.begin();
    const lease = this.#locks.acquire(ids);
    return new Promise<T>((resolve, reject) => {
      const finish = (error: unknown, staged?: StagedWrite<T>): void => {
        if (error === undefined) staged!.delta.addTo(this.#stats);
        lease.release();
        this.#work.end();
        if (error === undefined) {
          resolve(staged!.result);
        } else if (error instanceof HpckvError) {
          reject(error);
        } else {
          this.#failed = true;
          reject(storeError(error, this.#db, action));
        }
      };
      const start = (): void => {
        let staged: StagedWrite<T>;
        try {
          staged = stageWrite(lease);
        } catch (error) {
          finish(error ?? new Error('write failed'));
          return;
        }
        const committed = (error?: unknown): void => finish(error, staged);
        if (staged.staged !== undefined) this.#groups.submitBatch(staged.staged, staged.bytes, staged.sync, committed);
        else this.#groups.submit(staged.bytes, staged.sync, staged.ops!, committed);
      };
      if (lease.ready === null) start();
      else void lease.ready.then(start);
    });
  }
}

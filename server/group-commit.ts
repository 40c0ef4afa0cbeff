/** What a request stages its operations into: the open group's batch. */
export interface StagingBatch {
  put(key: Buffer, value: Buffer): unknown;
  del(key: Buffer): unknown;
}

/** A chained batch (classic-level's `db.batch()` with no arguments). */
export interface CommitBatch extends StagingBatch {
  write(options: { sync: boolean }): Promise<void>;
  close(): Promise<void>;
}

/** The store a GroupCommit writes to: chained batches, and single puts and deletes. */
export interface BatchingStore {
  batch(): CommitBatch;
  put(key: Buffer, value: Buffer, options: { sync: boolean }): Promise<void>;
  del(key: Buffer, options: { sync: boolean }): Promise<void>;
}

/** A request that is one put (value) or one delete (null): alone in its group it skips the batch. */
export interface SingleWrite {
  key: Buffer;
  value: Buffer | null;
}

/** A request's operations: one put or delete, or a function that stages several into a batch. */
export type StagedOps = SingleWrite | ((batch: StagingBatch) => void);

function stageOps(ops: StagedOps, batch: StagingBatch): void {
  if (typeof ops === 'function') ops(batch);
  else if (ops.value === null) batch.del(ops.key);
  else batch.put(ops.key, ops.value);
}

const SYNC_WRITE = Object.freeze({ sync: true });
const ASYNC_WRITE = Object.freeze({ sync: false });

/** Called once a member's group was written (no argument) or failed (the store's error). */
export type Committed = (error?: unknown) => void;

interface Group {
  /** The members' operations, staged into the group's batch when it is written. */
  ops: StagedOps[];
  /**
   * A batch staged elsewhere (a putMany that arrived in parts): the group is closed, written as
   * it is with its one member.
   */
  batch: CommitBatch | undefined;
  members: Committed[];
  bytes: number;
  sync: boolean;
}

/**
 * Group commit for one LevelDB store: writes that arrive while another group is being written
 * (or in the same callback, a socket read) are staged into one chained batch and written with one
 * `batch.write`. One group is written at a time, so groups reach LevelDB in the order they were
 * formed; the caller holds per-key locks until its group committed, so a key is never in two
 * groups at once and per-key order is arrival order.
 *
 * Why: classic-level's `db.put` queues one libuv thread-pool job per write; with 64 puts in
 * flight those hand-offs took 28% of a server's main thread and LevelDB's own write queue then
 * serialises them anyway. A raw store doing the same puts batched per turn runs 52-61k/s
 * against 30-32k/s put by put (4 KiB values, this 2-core machine).
 *
 * A group closes when the previous one finished writing, or early
 * when its bytes reach `groupBytesMax` (the next writes start a new group). One member larger
 * than that forms a group of its own: a request is never split over groups, so each request
 * stays atomic. The batch is synced when any member asked for `sync`. When LevelDB fails a
 * group's write, nothing of it was applied and every member fails with that error.
 */
export class GroupCommit {
  readonly #db: BatchingStore;
  readonly #groupBytesMax: number;
  /** Groups formed and not yet written, oldest first; the last one is open for new members. */
  readonly #queue: Group[] = [];
  #writing = false;
  #scheduled = false;
  /** Groups written and writes per group, for the bench and tests. */
  groupsWritten = 0;
  membersWritten = 0;

  constructor(db: BatchingStore, groupBytesMax: number) {
    this.#db = db;
    this.#groupBytesMax = groupBytesMax;
  }

  /**
   * Adds one request's operations to the open group and calls `committed` once its group is
   * written. `bytes` is the request's size in keys and values. A callback rather than a promise:
   * one write then costs its caller a single promise.
   */
  submit(bytes: number, sync: boolean, ops: StagedOps, committed: Committed): void {
    const group = this.#groupFor(bytes);
    group.bytes += bytes;
    if (sync) group.sync = true;
    group.ops.push(ops);
    group.members.push(committed);
    this.#schedule();
  }

  /** A batch its caller staged itself, written as a group of its own, in turn with the others. */
  submitBatch(batch: CommitBatch, bytes: number, sync: boolean, committed: Committed): void {
    this.#queue.push({ ops: [], batch, members: [committed], bytes, sync });
    this.#schedule();
  }

  #groupFor(bytes: number): Group {
    const open = this.#queue[this.#queue.length - 1];
    if (open !== undefined && open.batch === undefined && (open.members.length === 0 || open.bytes + bytes <= this.#groupBytesMax)) return open;
    const group: Group = { ops: [], batch: undefined, members: [], bytes: 0, sync: false };
    this.#queue.push(group);
    return group;
  }

  /**
   * Writes the oldest group once the current callback (and the promise turns it started) is
   * done: every request of a socket read, and every writer a finished group released, joins.
   * (A check-phase setImmediate instead also caught other sockets' reads of the same poll, but
   * cost a lone put about 10 µs; those reads join the next group anyway.)
   */
  #schedule(): void {
    if (this.#writing || this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(this.#writeNext);
  }

  readonly #writeNext = (): void => {
    this.#scheduled = false;
    const group = this.#queue.shift();
    if (group === undefined) return;
    this.#writing = true;
    this.#write(group).then(
      () => this.#finish(group, undefined),
      (error: unknown) => this.#finish(group, error ?? new Error('group write failed')),
    );
  };

  /**
   * One put or delete alone goes to LevelDB as itself (a chained batch costs it about 10 µs more);
   * otherwise the members stage into one batch now. A member whose staging throws leaves the
   * batch untrustworthy: the whole group fails with that error and nothing of it is written.
   */
  #write(group: Group): Promise<void> {
    const options = group.sync ? SYNC_WRITE : ASYNC_WRITE;
    if (group.batch !== undefined) return group.batch.write(options);
    const only = group.ops.length === 1 ? group.ops[0]! : undefined;
    if (only !== undefined && typeof only !== 'function') {
      return only.value === null ? this.#db.del(only.key, options) : this.#db.put(only.key, only.value, options);
    }
    const batch = this.#db.batch();
    try {
      for (const ops of group.ops) stageOps(ops, batch);
    } catch (error) {
      return batch.close().then(() => { throw error; });
    }
    return batch.write(options);
  }

  #finish(group: Group, error: unknown): void {
    this.#writing = false;
    this.groupsWritten++;
    this.membersWritten += group.members.length;
    for (const committed of group.members) committed(error);
    // Writers this group's locks released join a group from their own promise turns, queued
    // before the write this schedules; with the queue empty, their submits schedule it.
    if (this.#queue.length > 0) this.#schedule();
  }
}

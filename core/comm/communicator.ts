/**
 * The MPI-like communicator of hpckv: ranks, tagged point-to-point messages and the few
 * collectives that bootstrap a group (barrier, bcast, allgather, split). Every backend
 * (in-process, sockets, native MPI) is reached through this one interface.
 *
 * Matching follows MPI: messages from one source with one tag are received in the order they
 * were sent; a message that arrives before a matching receive is queued; receives that could
 * match the same message are satisfied in the order they were posted.
 */

/** Receive from whichever rank sends first. */
export const ANY_SOURCE = -1;
/** Receive a message of any (user) tag. */
export const ANY_TAG = -1;
/** The largest user tag (MPI_TAG_UB); user tags are integers in 0..TAG_MAX. */
export const TAG_MAX = 2 ** 30;

export interface RecvOptions {
  /** Aborting rejects the receive with HPCKV_ERR_ABORTED; a message it would have taken stays queued. */
  signal?: AbortSignal;
  /** Rejects with HPCKV_ERR_TIMEOUT if nothing matched within this many milliseconds (0: only a queued message). */
  timeoutMs?: number;
}

export interface Received<T = unknown> {
  /** The sender's rank in this communicator. */
  source: number;
  tag: number;
  data: T;
}

export interface Communicator {
  readonly rank: number;
  readonly size: number;
  /**
   * Sends `data` (any msgpack-able value: Uint8Array stays bytes, bigint stays bigint). Resolves
   * once the message is handed to the transport (buffered, like an eager MPI send), not when it
   * is received. Rejects with HPCKV_ERR_COMM if the destination is gone or this is closed.
   */
  send(dest: number, tag: number, data: unknown): Promise<void>;
  /** `source` may be ANY_SOURCE and `tag` ANY_TAG. */
  recv<T = unknown>(source: number, tag: number, options?: RecvOptions): Promise<Received<T>>;
  barrier(): Promise<void>;
  /** Every rank gets the root's `data`; the others' argument is ignored. */
  bcast<T>(root: number, data?: T): Promise<T>;
  /** Every rank gets every rank's `data`, indexed by rank. */
  allgather<T>(data: T): Promise<T[]>;
  /**
   * Collective: ranks passing the same `color` form a new communicator, ordered by `key` and then
   * by rank in this one.
   */
  split(color: number, key: number): Promise<Communicator>;
  /**
   * Rejects this communicator's pending receives with HPCKV_ERR_COMM. Closing the world
   * communicator also closes the transport (and so every communicator split from it).
   */
  close(): Promise<void>;
}

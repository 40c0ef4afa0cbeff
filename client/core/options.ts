import type { HpckvError } from '../../core/errors.js';
import type { Limits } from '../../core/limits.js';
import type { StatReply } from '../../core/protocol/messages.js';
import type { KeyValue } from '../../core/keys/key-type.js';
import type { RegionDescriptor } from '../../core/regions/region-descriptor.js';
import type { BytesInput } from '../bytes.js';

/**
 * The option and result types of the client's calls, apart from the Client that takes them, so
 * the modules over the client core (indexes, regions, procedures) share them without importing
 * the Client itself. `client/client.ts` re-exports them.
 */

/**
 * A key: bytes or a UTF-8 string for a `bytes` store; a value of the store's key type otherwise
 * (number, bigint, string, bytes, or an array for a tuple type).
 */
export type KeyInput = BytesInput | KeyValue;

export interface ClientOptions {
  /** Limits of this client, overlaid on the group's (e.g. a shorter requestTimeoutMs). */
  limits?: Partial<Limits>;
  /**
   * The group's shared secret, when the group file given to this client does not carry it (by
   * default the client proves the group file's `auth.secret`, if any).
   */
  authSecret?: Uint8Array;
}

export interface RequestOptions {
  /** Database name; default "default". */
  db?: string;
  /** Milliseconds to wait for the reply; default limits.requestTimeoutMs; 0 = no timeout. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface WriteOptions extends RequestOptions {
  /** Wait until LevelDB's log is flushed to disk (fsync) before acknowledging. */
  sync?: boolean;
}

/**
 * Bounds of a key range: at most one lower (gt/gte) and one upper (lt/lte), or a `prefix` alone.
 * In a tuple store a bound may be a prefix (its leading components), standing for every key that
 * starts with it: `gte` and `lt` bound at the first of them, `gt` and `lte` just after the last,
 * so `{ gte: ['mu'], lte: ['mu'] }` is every key of run "mu" and `{ gt: ['mu'] }` what follows it.
 */
export interface RangeOptions {
  gt?: KeyInput;
  gte?: KeyInput;
  lt?: KeyInput;
  lte?: KeyInput;
  /**
   * Every key starting with this: the leading components of a tuple key (`['mu']`), the leading
   * bytes of a `bytes` key, the leading characters of a `string` key; other key types have none
   * (TypeError). A range with a prefix takes no other bound (TypeError).
   */
  prefix?: KeyInput;
}

export interface IterateOptions extends RequestOptions, RangeOptions {
  reverse?: boolean;
  /** Most entries returned in all. */
  limit?: number;
  /** Return values (default true). */
  values?: boolean;
  /** Entries each server returns in its first page (default 64). */
  firstPageEntries?: number;
}

/** One server's smallest and largest key (undefined when it holds none). */
export interface ServerKeyBounds {
  rank: number;
  min: KeyValue | undefined;
  max: KeyValue | undefined;
}

/** One server's answer to a stat of the group: its statistics, or the typed error it failed with (down: HPCKV_ERR_CONNECT_FAILED). */
export type ServerStat = { rank: number; stat: StatReply; error?: undefined } | { rank: number; error: HpckvError; stat?: undefined };

/** One non-empty MDHIM slice: its number, owner, record count and key bounds. */
export interface SliceStat {
  slice: bigint;
  rank: number;
  records: number;
  min: KeyValue;
  max: KeyValue;
}

export interface ExecuteOptions extends RangeOptions {
  db?: string;
  reverse?: boolean;
  /** Passed to the procedure as `args` (any msgpack-able value). */
  args?: unknown;
  /** Per server and page: entries scanned and result bytes before a page ends (lowered to the servers' limits). */
  scanEntriesMax?: number;
  resultBytesMax?: number;
  /**
   * filter and map: write the results into this region (packed pairs in key order, as
   * scanIntoRegion does) instead of returning them; wait() then gives a RegionScanResult, whose
   * `resume` is the last key written when not all results fitted.
   */
  into?: RegionDescriptor;
}

export type BatchOperation =
  | { type: 'put'; key: KeyInput; value: BytesInput }
  | { type: 'del'; key: KeyInput };

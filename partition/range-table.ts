import type { RangePartitionSpec } from '../core/group-file.js';
import { checkRangeBoundaries, decodeBase64 } from '../core/partition-spec.js';
import type { KeyBound, Partitioner } from './partitioner-contract.js';

export { decodeBase64 };

/**
 * Range partitioning: the key space cut into N contiguous ranges by N-1 explicit boundaries.
 * Server 0 owns keys < b[0], server i owns b[i-1] <= key < b[i], server N-1 owns keys >= b[N-2].
 * Keys are encoded key bytes whose byte order (Buffer.compare) is the keys' natural order, so a
 * range of keys is a range of servers and an ordered scan can visit servers one after another
 * instead of merging all of them.
 *
 * The table carries an epoch: a request is routed with the epoch of the table that routed it, and
 * a server holding a newer table can tell the client its map is stale (see docs/design.md, "Not built yet").
 */
export class RangeTable implements Partitioner {
  readonly scheme = 'range';
  readonly serverCount: number;
  readonly epoch: number;
  // Private copies: a caller mutating its arrays afterwards must not re-route keys.
  private readonly bounds: readonly Uint8Array[];

  /**
   * `serverCount` defaults to `boundaries.length + 1`; when given, a different boundary count is
   * a RangeError (a group file whose table does not match its server list).
   */
  constructor(boundaries: readonly Uint8Array[], epoch = 0, serverCount = boundaries.length + 1) {
    if (!Array.isArray(boundaries)) throw new TypeError('RangeTable: boundaries must be an array of Uint8Array');
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError(`RangeTable: epoch must be a non-negative integer, got ${String(epoch)}`);
    if (!Number.isSafeInteger(serverCount) || serverCount < 1) throw new RangeError(`RangeTable: serverCount must be an integer >= 1, got ${String(serverCount)}`);
    const copies = checkRangeBoundaries(boundaries, serverCount);
    this.bounds = copies;
    this.serverCount = serverCount;
    this.epoch = epoch;
  }

  /**
   * Boundaries at the quantiles of a sample of keys, so each server gets about the same number of
   * the sample's distinct keys. Duplicates are dropped first: a store holds a key once however
   * often the sample saw it, so counting repeats would skew shares toward hot keys, not big ones.
   * Needs at least `serverCount` distinct keys (each server's range then starts at a sample key);
   * fewer is a RangeError rather than boundaries invented between keys the sample never showed.
   */
  static fromSample(sampleKeys: readonly Uint8Array[], serverCount: number, epoch = 0): RangeTable {
    if (!Array.isArray(sampleKeys)) throw new TypeError('RangeTable.fromSample: sampleKeys must be an array of Uint8Array');
    if (!Number.isSafeInteger(serverCount) || serverCount < 1) {
      throw new RangeError(`RangeTable.fromSample: serverCount must be an integer >= 1, got ${String(serverCount)}`);
    }
    for (const key of sampleKeys as readonly unknown[]) {
      if (!(key instanceof Uint8Array)) throw new TypeError('RangeTable.fromSample: every sample key must be a Uint8Array');
    }
    const sorted = [...sampleKeys].sort((a, b) => Buffer.compare(a, b));
    const distinct = sorted.filter((key, i) => i === 0 || Buffer.compare(sorted[i - 1]!, key) !== 0);
    if (serverCount > 1 && distinct.length < serverCount) {
      throw new RangeError(`RangeTable.fromSample: ${serverCount} servers need a sample of at least ${serverCount} distinct keys, got ${distinct.length}`);
    }
    // floor(i * d / N) strictly increases with i when d >= N and is >= 1 for i >= 1, so the
    // boundaries are strictly increasing, non-empty (only distinct[0] may be empty) and every
    // server owns at least floor(d / N) sample keys.
    const d = distinct.length;
    const boundaries = Array.from({ length: serverCount - 1 }, (_, j) => distinct[Math.floor(((j + 1) * d) / serverCount)]!);
    return new RangeTable(boundaries, epoch, serverCount);
  }

  /** The table a group file's range spec describes (boundaries are base64 of encoded keys). */
  static fromSpec(spec: RangePartitionSpec, serverCount: number): RangeTable {
    if (!Array.isArray(spec.boundaries) || !spec.boundaries.every((b) => typeof b === 'string')) {
      throw new TypeError('RangeTable.fromSpec: boundaries must be an array of base64 strings');
    }
    return new RangeTable(spec.boundaries.map((b) => decodeBase64(b)), spec.epoch, serverCount);
  }

  /** The group-file form of this table. */
  toSpec(): RangePartitionSpec {
    return { scheme: 'range', boundaries: this.bounds.map((b) => Buffer.from(b).toString('base64')), epoch: this.epoch };
  }

  /** Copies of the boundaries, in order. */
  get boundaries(): Uint8Array[] {
    return this.bounds.map((b) => Uint8Array.from(b));
  }

  /** The owner of `key`: the number of boundaries <= key (binary search). */
  serverFor(key: Uint8Array): number {
    return this.countBoundaries(key, true);
  }

  /**
   * The servers holding keys of the range, in key order (ascending ranks), so a scan can visit them
   * one after the other. An absent bound is an open end; an empty range touches no server.
   * Exact over byte strings: an exclusive lower bound k starts at k + 0x00, the smallest key
   * after k, and an exclusive upper bound that is exactly a boundary stops before that server.
   */
  serversForRange(lo?: KeyBound, hi?: KeyBound): number[] {
    // The smallest key in the range.
    const first = lo === undefined ? new Uint8Array(0) : lo.inclusive ? lo.key : appendZero(lo.key);
    if (hi !== undefined) {
      const order = Buffer.compare(first, hi.key);
      if (order > 0 || (order === 0 && !hi.inclusive)) return [];
    }
    const from = this.serverFor(first);
    // For exclusive hi the keys just below hi belong to the server before hi's when hi is a boundary.
    const to = hi === undefined ? this.serverCount - 1 : this.countBoundaries(hi.key, hi.inclusive);
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  }

  /** Partitioner's ordered-scan hook: a range table always knows the order. */
  serversInOrder(lo?: KeyBound, hi?: KeyBound): number[] {
    return this.serversForRange(lo, hi);
  }

  /** Boundaries < key, or <= key when `orEqual`. */
  private countBoundaries(key: Uint8Array, orEqual: boolean): number {
    let low = 0;
    let high = this.bounds.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const order = Buffer.compare(this.bounds[mid]!, key);
      if (order < 0 || (orEqual && order === 0)) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

function appendZero(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key);
  return out;
}


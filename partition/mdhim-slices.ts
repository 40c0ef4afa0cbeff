import type { SlicePartitionSpec } from '../core/group-file.js';
import type { KeyBound, Partitioner } from './partitioner-contract.js';
import { parseSliceSize } from '../core/partition-spec.js';
import { isSliceKeyType, keyCodec, type KeyCodec, type SliceKeyType } from './slice-key-codec.js';

/**
 * MDHIM's partitioning: a numeric key's slice is floor(key / sliceSize) and slice s belongs to
 * server s mod N, so consecutive slices go round-robin over the servers. Floor (not truncation)
 * keeps slices the same width across zero: slice -1 is [-sliceSize, 0), and the modulus is
 * Euclidean so negative slices keep the round-robin (slice -1 -> server N-1).
 *
 * Keys are encoded key bytes of `keyType` (see slice-key-codec.ts; string and bytes keys use
 * their first 8 bytes as a big-endian number). Slices are contiguous in key order, so a server can
 * keep per-slice min/max keys; `sliceRange` gives the encoded key range of a slice.
 *
 * Ordered scans: consecutive ranges of keys land on different servers round-robin, so a scan
 * that spans N or more slices finds every server holding interleaved pieces and must merge all of
 * them (like hash); only a scan within fewer than N slices can visit servers one after another.
 *
 * Integer sizes and keys are exact bigints (int64/uint64 beyond 2^53 included). Float keys slice
 * in double arithmetic; the result is still monotone in the key, and non-finite keys (infinities,
 * NaNs) share the slice of the largest finite value of their sign.
 */
export class SlicePartitioner implements Partitioner {
  readonly scheme = 'slices';
  readonly serverCount: number;
  readonly keyType: SliceKeyType;
  /** A bigint for integer, string and bytes keys; a positive finite number for floats. */
  readonly sliceSize: bigint | number;
  private readonly codec: KeyCodec;
  private readonly servers: bigint;
  private readonly codeEnd: bigint;

  constructor(serverCount: number, keyType: SliceKeyType, sliceSize: number | bigint | string) {
    if (!Number.isSafeInteger(serverCount) || serverCount < 1) {
      throw new RangeError(`SlicePartitioner: serverCount must be an integer >= 1, got ${String(serverCount)}`);
    }
    if (!isSliceKeyType(keyType)) throw new TypeError(`SlicePartitioner: unsupported key type ${String(keyType)}`);
    this.serverCount = serverCount;
    this.keyType = keyType;
    this.sliceSize = parseSliceSize(keyType, sliceSize);
    this.codec = keyCodec(keyType);
    this.servers = BigInt(serverCount);
    this.codeEnd = 1n << BigInt(this.codec.bits);
  }

  static fromSpec(spec: SlicePartitionSpec, serverCount: number): SlicePartitioner {
    if (!isSliceKeyType(spec.keyType)) throw new TypeError(`SlicePartitioner: unsupported key type ${String(spec.keyType)}`);
    return new SlicePartitioner(serverCount, spec.keyType, spec.sliceSize);
  }

  toSpec(): SlicePartitionSpec {
    const size = this.sliceSize;
    return { scheme: 'slices', keyType: this.keyType, sliceSize: typeof size === 'bigint' && size > BigInt(Number.MAX_SAFE_INTEGER) ? size.toString() : Number(size) };
  }

  /** The slice of an encoded key. */
  sliceOf(key: Uint8Array): bigint {
    return this.sliceOfCode(this.codec.codeOf(key));
  }

  /** The server that owns a slice: slice mod N, Euclidean. */
  ownerOfSlice(slice: bigint): number {
    return Number(((slice % this.servers) + this.servers) % this.servers);
  }

  serverFor(key: Uint8Array): number {
    return this.ownerOfSlice(this.sliceOf(key));
  }

  /**
   * The encoded keys of a slice: `lo` inclusive, `hi` exclusive (undefined: to the end of the key
   * space), or undefined when no key falls in the slice (outside the type's range, or a float
   * slice narrower than the spacing of floats there). Found by binary search over codes, so it
   * agrees exactly with `sliceOf`, float rounding included.
   */
  sliceRange(slice: bigint): { lo: Uint8Array; hi: Uint8Array | undefined } | undefined {
    if (typeof slice !== 'bigint') throw new TypeError('sliceRange: slice must be a bigint');
    const lo = this.firstCodeOfSliceAtLeast(slice);
    const hi = this.firstCodeOfSliceAtLeast(slice + 1n);
    if (lo === hi) return undefined;
    return { lo: this.codec.keyOf(lo), hi: hi === this.codeEnd ? undefined : this.codec.keyOf(hi) };
  }

  /**
   * Servers of a range in key order when the range spans fewer than N slices (each slice then
   * has its own server, visited once); undefined when it spans N or more, since every server then
   * holds interleaved pieces and the scan must merge them all. For string and bytes keys an
   * exclusive bound is treated as inclusive (a superset: at most one extra server that returns
   * nothing), because many keys share one code and the slice of "just before k" is not exact.
   */
  serversInOrder(lo?: KeyBound, hi?: KeyBound): number[] | undefined {
    if (lo !== undefined && hi !== undefined) {
      const order = Buffer.compare(lo.key, hi.key);
      if (order > 0 || (order === 0 && !(lo.inclusive && hi.inclusive))) return [];
    }
    const prefix = this.keyType === 'string' || this.keyType === 'bytes';
    let first = lo === undefined ? 0n : this.codec.codeOf(lo.key);
    let last = hi === undefined ? this.codeEnd - 1n : this.codec.codeOf(hi.key);
    if (!prefix && lo !== undefined && !lo.inclusive) first++;
    if (!prefix && hi !== undefined && !hi.inclusive) last--;
    if (first > last) return [];
    const firstSlice = this.sliceOfCode(first);
    const lastSlice = this.sliceOfCode(last);
    if (lastSlice - firstSlice >= this.servers) return undefined;
    const out: number[] = [];
    for (let s = firstSlice; s <= lastSlice; s++) out.push(this.ownerOfSlice(s));
    return out;
  }

  private sliceOfCode(code: bigint): bigint {
    const value = this.codec.valueOf(code);
    if (typeof value === 'bigint') return floorDiv(value, this.sliceSize as bigint);
    // Clamp so infinities, NaNs and quotients that overflow stay finite and in key order.
    const negative = Number.isNaN(value) ? isNegativeNaN(code, this.codec.bits) : value < 0;
    const clamped = Number.isFinite(value) ? value : negative ? -Number.MAX_VALUE : Number.MAX_VALUE;
    let quotient = Math.floor(clamped / (this.sliceSize as number));
    if (!Number.isFinite(quotient)) quotient = quotient < 0 ? -Number.MAX_VALUE : Number.MAX_VALUE;
    return BigInt(quotient);
  }

  /** The smallest code whose slice is >= `slice`, or codeEnd when there is none. */
  private firstCodeOfSliceAtLeast(slice: bigint): bigint {
    let low = 0n;
    let high = this.codeEnd;
    while (low < high) {
      const mid = (low + high) >> 1n;
      if (this.sliceOfCode(mid) >= slice) high = mid;
      else low = mid + 1n;
    }
    return low;
  }
}

/** A NaN's sign is only in its bits: encoded negatives have the top bit clear. */
function isNegativeNaN(code: bigint, bits: number): boolean {
  return code < 1n << BigInt(bits - 1);
}

function floorDiv(value: bigint, size: bigint): bigint {
  const quotient = value / size;
  return value % size !== 0n && value < 0n ? quotient - 1n : quotient;
}

export { parseSliceSize };

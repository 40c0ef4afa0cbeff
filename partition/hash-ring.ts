import type { Partitioner } from './partitioner-contract.js';
import { xxhash64 } from './xxhash64.js';

/** Upper bound on virtual nodes per server; the same bound the group file enforces. */
export const VIRTUAL_NODES_MAX = 4096;
/** Upper bound on points on one ring (12 bytes each), so a bad spec cannot allocate without bound. */
export const RING_POINTS_MAX = 1 << 22;
/** Most bits of the bucket table (2^16 + 1 entries, 256 KiB) however large the ring. */
const BUCKET_BITS_MAX = 16;

/**
 * A consistent-hash ring in the style of ch-placement: every server owns `virtualNodes` points on
 * a 64-bit ring, and a key belongs to the owner of the first point clockwise at or after the key's
 * hash. Many points per server even out the arcs, and adding a server only takes over the arcs in
 * front of its own points, so about 1/(N+1) of the keys move, all of them to the new server.
 *
 * Point encoding (a persistent format: changing it moves data). The point of virtual node `v` of
 * server `s` is xxh64 with the ring's seed of 8 bytes: `s` as a little-endian uint32, then `v` as a
 * little-endian uint32. It depends on neither the server count nor the other servers, which is what
 * makes growth move keys only to the new server. Keys are hashed with the same seed.
 *
 * Points are sorted by (hash, server, virtual node), so two points with the same hash (possible,
 * though unlikely, in 64 bits) are ordered by server index and construction is deterministic; a key
 * hashing exactly to a tie goes to the lowest server index.
 *
 * Lookups are a binary search over parallel typed arrays of the points' high and low halves, with
 * the key's digest in a reused scratch array, so `locate` allocates nothing. A bucket table on the
 * top bits of the hash first narrows the search to the one or two points in the key's bucket:
 * a plain binary search over a few hundred points cost more than hashing the key.
 */
export class HashRing implements Partitioner {
  readonly scheme = 'hash';
  readonly serverCount: number;
  readonly virtualNodes: number;
  readonly seed: number;

  private readonly pointHi: Uint32Array;
  private readonly pointLo: Uint32Array;
  private readonly pointServer: Uint32Array;
  // bucketStart[b] is the first point whose hash's top `bucketBits` bits are >= b, so the points
  // of bucket b are [bucketStart[b], bucketStart[b + 1]).
  private readonly bucketBits: number;
  private readonly bucketStart: Uint32Array;
  private readonly digest = new Uint32Array(2);
  // closest() marks the servers it has taken with the current stamp instead of clearing a set.
  private readonly seenStamp: Uint32Array;
  private stamp = 0;

  constructor(serverCount: number, virtualNodes: number, seed: number) {
    requireInteger('serverCount', serverCount);
    requireInteger('virtualNodes', virtualNodes);
    requireInteger('seed', seed);
    if (serverCount < 1) throw new RangeError(`HashRing: serverCount must be >= 1, got ${serverCount}`);
    if (virtualNodes < 1 || virtualNodes > VIRTUAL_NODES_MAX) {
      throw new RangeError(`HashRing: virtualNodes must be in 1..${VIRTUAL_NODES_MAX}, got ${virtualNodes}`);
    }
    if (seed < 0 || seed > 0xffff_ffff) throw new RangeError(`HashRing: seed must be a uint32, got ${seed}`);
    const count = serverCount * virtualNodes;
    if (count > RING_POINTS_MAX) {
      throw new RangeError(`HashRing: ${serverCount} servers x ${virtualNodes} virtual nodes exceeds ${RING_POINTS_MAX} points`);
    }
    this.serverCount = serverCount;
    this.virtualNodes = virtualNodes;
    this.seed = seed;

    // Unsorted points, in (server, virtual node) order: point k is server k / V, virtual node k % V.
    const hashes = new Uint32Array(count * 2);
    const encoding = new Uint8Array(8);
    const view = new DataView(encoding.buffer);
    for (let server = 0, k = 0; server < serverCount; server++) {
      view.setUint32(0, server, true);
      for (let vnode = 0; vnode < virtualNodes; vnode++, k++) {
        view.setUint32(4, vnode, true);
        xxhash64(encoding, seed, hashes, 2 * k);
      }
    }
    // Sorting point numbers by (hash, k) is sorting by (hash, server, virtual node).
    const order = Array.from({ length: count }, (_, k) => k);
    order.sort((a, b) => (hashes[2 * a]! - hashes[2 * b]!) || (hashes[2 * a + 1]! - hashes[2 * b + 1]!) || (a - b));

    this.pointHi = new Uint32Array(count);
    this.pointLo = new Uint32Array(count);
    this.pointServer = new Uint32Array(count);
    for (let i = 0; i < count; i++) {
      const k = order[i]!;
      this.pointHi[i] = hashes[2 * k]!;
      this.pointLo[i] = hashes[2 * k + 1]!;
      this.pointServer[i] = Math.floor(k / virtualNodes);
    }
    this.seenStamp = new Uint32Array(serverCount);

    // About two buckets per point, so most buckets hold zero or one point.
    this.bucketBits = Math.min(BUCKET_BITS_MAX, Math.ceil(Math.log2(count)) + 1);
    const buckets = 2 ** this.bucketBits;
    this.bucketStart = new Uint32Array(buckets + 1);
    for (let b = 0, i = 0; b <= buckets; b++) {
      while (i < count && this.pointHi[i]! >>> (32 - this.bucketBits) < b) i++;
      this.bucketStart[b] = i;
    }
  }

  /** Number of points on the ring (serverCount x virtualNodes). */
  get pointCount(): number {
    return this.pointHi.length;
  }

  /** The `index`-th point in ring order, for inspection and tests. */
  pointAt(index: number): { hash: bigint; server: number } {
    if (!Number.isInteger(index) || index < 0 || index >= this.pointCount) {
      throw new RangeError(`HashRing: point index ${index} is outside 0..${this.pointCount - 1}`);
    }
    return {
      hash: (BigInt(this.pointHi[index]!) << 32n) | BigInt(this.pointLo[index]!),
      server: this.pointServer[index]!,
    };
  }

  /** The server that owns `key`: the owner of the first point at or after its hash, wrapping. */
  locate(key: Uint8Array): number {
    return this.pointServer[this.firstPointAtOrAfter(key)]!;
  }

  /** `Partitioner` name for `locate`. */
  serverFor(key: Uint8Array): number {
    return this.locate(key);
  }

  /**
   * `replicas` distinct servers for `key`, in the order met walking clockwise from its hash; the
   * first is `locate(key)`. Every server has at least one point, so one lap always finds them.
   */
  closest(key: Uint8Array, replicas: number): number[] {
    requireInteger('replicas', replicas);
    if (replicas < 1 || replicas > this.serverCount) {
      throw new RangeError(`HashRing: replicas must be in 1..${this.serverCount}, got ${replicas}`);
    }
    const stamp = this.nextStamp();
    const result: number[] = [];
    const count = this.pointCount;
    for (let i = this.firstPointAtOrAfter(key); result.length < replicas; i = i + 1 === count ? 0 : i + 1) {
      const server = this.pointServer[i]!;
      if (this.seenStamp[server] !== stamp) {
        this.seenStamp[server] = stamp;
        result.push(server);
      }
    }
    return result;
  }

  /** Index of the first point whose hash is >= the key's hash, or 0 when the key is past the last. */
  private firstPointAtOrAfter(key: Uint8Array): number {
    const digest = this.digest;
    xxhash64(key, this.seed, digest);
    const keyHi = digest[0]!, keyLo = digest[1]!;
    const pointHi = this.pointHi, pointLo = this.pointLo;
    // Points in earlier buckets are below the key and points in later ones above it, so the answer
    // is in the key's bucket or is the first point after it.
    const bucket = keyHi >>> (32 - this.bucketBits);
    let low = this.bucketStart[bucket]!, high = this.bucketStart[bucket + 1]!;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const hi = pointHi[mid]!;
      if (hi < keyHi || (hi === keyHi && pointLo[mid]! < keyLo)) low = mid + 1;
      else high = mid;
    }
    return low === pointHi.length ? 0 : low;
  }

  private nextStamp(): number {
    this.stamp = (this.stamp + 1) >>> 0;
    if (this.stamp === 0) {
      // After 2^32 calls old marks could collide with new stamps; start over from clean marks.
      this.seenStamp.fill(0);
      this.stamp = 1;
    }
    return this.stamp;
  }
}

function requireInteger(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`HashRing: ${name} must be an integer, got ${String(value)}`);
  }
}

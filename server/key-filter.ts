import { xxhash64 } from '../partition/xxhash64.js';

/**
 * A Bloom filter over every key a database may hold, so a write can skip reading the old value
 * of a key that is certainly new (the read is only needed for exact stats, and a miss still
 * costs LevelDB a lookup per level: about 20% of a bulk put's CPU). "Maybe present" falls back
 * to the real read, so stats stay exact whatever the filter says.
 *
 * It grows as layers, each twice the capacity of the last, at 10 bits or more per key of
 * capacity (a false positive rate near 1%); layers round up to a power of two bits and the last
 * is part full, so memory measured 3.9 MiB for 1M keys and 32 MiB for 10M (3.3-4 bytes per key
 * ever written). Keys are never removed (Bloom filters cannot), so deleted keys only cost a read
 * they would have cost anyway. A clean close saves the layers in the store's summary
 * (store-summary.ts) and the next open takes them back; without a summary the filter is rebuilt
 * from the store's keys.
 */
const BITS_PER_KEY = 10;
const HASHES = 7;
const FIRST_LAYER_KEYS = 1 << 16;
/** Largest layer: 2^27 keys at 10 bits round up to 2^31 bits, the most a 32-bit bit index reaches. */
const LAYER_KEYS_MAX = 1 << 27;

interface Layer {
  bits: Uint32Array;
  /** Number of bits (a power of two, so a mask picks a bit). */
  mask: number;
  capacity: number;
  count: number;
}

function layerBits(capacity: number): number {
  let bits = 32;
  while (bits < capacity * BITS_PER_KEY) bits *= 2;
  return bits;
}

function makeLayer(capacity: number): Layer {
  const bits = layerBits(capacity);
  return { bits: new Uint32Array(bits / 32), mask: bits - 1, capacity, count: 0 };
}

/** A filter's shape as a summary's header records it: its hash count and each layer's size. */
export interface KeyFilterShape {
  hashes: number;
  layers: ReadonlyArray<{ capacity: number; count: number; words: number }>;
}

/** A filter's contents as a summary stores them: its hash count and each layer's words. */
export interface KeyFilterLayers {
  hashes: number;
  layers: ReadonlyArray<{ capacity: number; count: number; bits: Uint32Array }>;
}

/** Hash pairs recorded per key while adds are deferred. */
const DEFERRED_WORDS_FIRST = 2 * 1024;

export class KeyFilter {
  private layers: Layer[] = [makeLayer(FIRST_LAYER_KEYS)];
  private readonly hash = new Uint32Array(2);
  /** While layers are being loaded (deferAdds): the hash pair of every key added meanwhile. */
  private deferred: Uint32Array | null = null;
  private deferredWords = 0;

  /**
   * True when layers of this shape are what this code builds (same hash count, capacities in
   * range, words that fit each capacity): any other filter could call a stored key new.
   */
  static accepts(shape: KeyFilterShape): boolean {
    return shape.hashes === HASHES && shape.layers.length > 0 && shape.layers.every(({ capacity, count, words }) =>
      Number.isSafeInteger(capacity) && capacity >= 1 && capacity <= LAYER_KEYS_MAX
      && Number.isSafeInteger(count) && count >= 0 && count <= capacity && words * 32 === layerBits(capacity));
  }

  /** The layers (shared, not copied), for a summary written once nothing adds keys any more. */
  toLayers(): KeyFilterLayers {
    return { hashes: HASHES, layers: this.layers.map(({ capacity, count, bits }) => ({ capacity, count, bits })) };
  }

  /**
   * From now until adoptLayers or applyDeferredAdds, adds are only recorded (8 bytes per key),
   * so that layers loaded meanwhile can take them without keeping a layer per restart.
   */
  deferAdds(): void {
    this.deferred = new Uint32Array(DEFERRED_WORDS_FIRST);
    this.deferredWords = 0;
  }

  /**
   * Takes `saved` as its layers (their words taken over, not copied) and applies the deferred
   * adds; false, changing nothing, when `saved` is not a filter this code builds (`accepts`).
   */
  adoptLayers(saved: KeyFilterLayers): boolean {
    const shape = { hashes: saved.hashes, layers: saved.layers.map((layer) => ({ ...layer, words: layer.bits.length })) };
    if (!KeyFilter.accepts(shape)) return false;
    this.layers = saved.layers.map(({ capacity, count, bits }) => ({ bits, mask: bits.length * 32 - 1, capacity, count }));
    this.applyDeferredAdds();
    return true;
  }

  /** Adds the keys recorded since deferAdds to the current layers, and adds directly from now on. */
  applyDeferredAdds(): void {
    const deferred = this.deferred;
    if (deferred === null) return;
    this.deferred = null;
    for (let i = 0; i < this.deferredWords; i += 2) this.addHash(deferred[i]!, deferred[i + 1]!);
  }

  /**
   * The key `hash` holds: a write asks mightContain(key) and then add(key) of the same key, and
   * hashing once instead of twice took xxhash64 from 3.7% to about half of that of a bulk put's
   * server time. add() forgets it, so only an add right after the check of the same key (the
   * write path, with nothing between them) reuses the hash.
   */
  private hashed: Uint8Array | undefined;

  private hashOf(key: Uint8Array): void {
    if (this.hashed === key) return;
    xxhash64(key, 0, this.hash);
    this.hashed = key;
  }

  /** Records that `key` may be stored. */
  add(key: Uint8Array): void {
    this.hashOf(key);
    this.hashed = undefined;
    const deferred = this.deferred;
    if (deferred === null) {
      this.addHash(this.hash[0]!, this.hash[1]!);
      return;
    }
    if (this.deferredWords === deferred.length) {
      this.deferred = new Uint32Array(deferred.length * 2);
      this.deferred.set(deferred);
    }
    this.deferred![this.deferredWords++] = this.hash[0]!;
    this.deferred![this.deferredWords++] = this.hash[1]!;
  }

  private addHash(h1: number, high: number): void {
    let layer = this.layers[this.layers.length - 1]!;
    if (layer.count >= layer.capacity) {
      layer = makeLayer(Math.min(layer.capacity * 2, LAYER_KEYS_MAX));
      this.layers.push(layer);
    }
    const h2 = high | 1;
    for (let i = 0; i < HASHES; i++) {
      const bit = ((h1 + Math.imul(i, h2)) & layer.mask) >>> 0;
      layer.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
    layer.count++;
  }

  /** False only when `key` was certainly never added. */
  mightContain(key: Uint8Array): boolean {
    this.hashOf(key);
    const h1 = this.hash[0]!;
    const h2 = this.hash[1]! | 1;
    for (const layer of this.layers) {
      let all = true;
      for (let i = 0; i < HASHES; i++) {
        const bit = ((h1 + Math.imul(i, h2)) & layer.mask) >>> 0;
        if ((layer.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) { all = false; break; }
      }
      if (all) return true;
    }
    return false;
  }

  /** Bytes of memory the filter holds. */
  get bytes(): number {
    return this.layers.reduce((total, layer) => total + layer.bits.byteLength, 0);
  }
}

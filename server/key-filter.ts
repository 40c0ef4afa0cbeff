import { xxhash64 } from '../partition/xxhash64.js';

/**
 * A Bloom filter over every key a database may hold, so a write can skip reading the old value
 * of a key that is certainly new (the read is only needed for exact stats, and a miss still
 * costs LevelDB a lookup per level: about 20% of a bulk put's CPU). "Maybe present" falls back
 * to the real read, so stats stay exact whatever the filter says.
 *
 * It grows as layers, each twice the capacity of the last, at about 10 bits per key (a false
 * positive rate near 1%): memory is about 1.25 bytes per key ever written. Keys are never
 * removed (Bloom filters cannot), so deleted keys only cost a read they would have cost anyway.
 * A clean close saves the layers in the store's summary (store-summary.ts) and the next open
 * takes them back; without a summary the filter is rebuilt from the store's keys.
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

/** A filter's contents as a summary stores them: its hash count and each layer's words. */
export interface KeyFilterLayers {
  hashes: number;
  layers: Array<{ capacity: number; count: number; bits: Uint32Array }>;
}

export class KeyFilter {
  private layers: Layer[] = [makeLayer(FIRST_LAYER_KEYS)];
  private readonly hash = new Uint32Array(2);

  /**
   * A filter made of layers `toLayers` gave (their words are taken over, not copied), or null
   * when they are not what this code builds (another hash count, a capacity out of range, words
   * that do not fit the capacity): such a filter could answer "certainly new" for a stored key.
   */
  static fromLayers(saved: KeyFilterLayers): KeyFilter | null {
    if (saved.hashes !== HASHES || saved.layers.length === 0) return null;
    const layers: Layer[] = [];
    for (const { capacity, count, bits } of saved.layers) {
      const valid = Number.isSafeInteger(capacity) && capacity >= 1 && capacity <= LAYER_KEYS_MAX
        && Number.isSafeInteger(count) && count >= 0 && count <= capacity && bits.length * 32 === layerBits(capacity);
      if (!valid) return null;
      layers.push({ bits, mask: bits.length * 32 - 1, capacity, count });
    }
    const filter = new KeyFilter();
    filter.layers = layers;
    return filter;
  }

  /** The layers (shared, not copied), for a summary written once nothing adds keys any more. */
  toLayers(): KeyFilterLayers {
    return { hashes: HASHES, layers: this.layers.map(({ capacity, count, bits }) => ({ capacity, count, bits })) };
  }

  /** Records that `key` may be stored. */
  add(key: Uint8Array): void {
    let layer = this.layers[this.layers.length - 1]!;
    if (layer.count >= layer.capacity) {
      layer = makeLayer(Math.min(layer.capacity * 2, LAYER_KEYS_MAX));
      this.layers.push(layer);
    }
    xxhash64(key, 0, this.hash);
    const h1 = this.hash[0]!;
    const h2 = this.hash[1]! | 1;
    for (let i = 0; i < HASHES; i++) {
      const bit = ((h1 + Math.imul(i, h2)) & layer.mask) >>> 0;
      layer.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
    layer.count++;
  }

  /** False only when `key` was certainly never added. */
  mightContain(key: Uint8Array): boolean {
    xxhash64(key, 0, this.hash);
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

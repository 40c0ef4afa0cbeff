/**
 * xxHash64 (XXH64, https://github.com/Cyan4973/xxHash) of a byte array with a 32-bit seed.
 *
 * Every key a client routes is hashed here, so the hot path uses only 32-bit integer arithmetic on
 * the high and low halves of each 64-bit value: BigInt allocates per operation and is an order of
 * magnitude slower. The 64-bit helpers return the low half and leave the high half in the
 * module-level `hiOut` (read it immediately after the call) so that no pair is allocated per
 * operation; V8 inlines them.
 */

// The five 64-bit primes of XXH64 as (high, low) uint32 halves.
const P1_HI = 0x9e3779b1, P1_LO = 0x85ebca87;
const P2_HI = 0xc2b2ae3d, P2_LO = 0x27d4eb4f;
const P3_HI = 0x165667b1, P3_LO = 0x9e3779f9;
const P4_HI = 0x85ebca77, P4_LO = 0xc2b2ae63;
const P5_HI = 0x27d4eb2f, P5_LO = 0x165667c5;
// P1 + P2 and -P1 (mod 2^64), the initial offsets of the first and fourth stripe accumulators.
const P1_PLUS_P2_HI = 0x60ea27ee, P1_PLUS_P2_LO = 0xadc0b5d6;
const MINUS_P1_HI = 0x61c8864e, MINUS_P1_LO = 0x7a143579;

/** High half of the last result of `mul`, `add`, `rotl`, `round` and `mergeRound`. */
let hiOut = 0;

/** (aHi:aLo * bHi:bLo) mod 2^64; returns the low half. */
function mul(aHi: number, aLo: number, bHi: number, bLo: number): number {
  // The low halves' full product P = hi * 2^32 + lo: Math.imul gives lo exactly, and the double
  // product is within 2^10 of P, so (double product - lo) / 2^32 is within 2^-20 of the integer
  // hi and rounding recovers it exactly. The cross terms only reach the high half, where the
  // wrapping Math.imul is exactly what mod 2^64 needs. (Few bytecodes, so V8 inlines every call.)
  const lo = Math.imul(aLo, bLo);
  const productHi = Math.round(((aLo >>> 0) * (bLo >>> 0) - (lo >>> 0)) / 0x1_0000_0000);
  hiOut = (productHi + Math.imul(aHi, bLo) + Math.imul(aLo, bHi)) | 0;
  return lo;
}

/** (aHi:aLo + bHi:bLo) mod 2^64; returns the low half. */
function add(aHi: number, aLo: number, bHi: number, bLo: number): number {
  const lo = (aLo + bLo) | 0;
  hiOut = (aHi + bHi + ((lo >>> 0) < (aLo >>> 0) ? 1 : 0)) | 0;
  return lo;
}

/** hi:lo rotated left by 0 < r < 32 bits (XXH64 only rotates by 1..31); returns the low half. */
function rotl(hi: number, lo: number, r: number): number {
  hiOut = (hi << r) | (lo >>> (32 - r));
  return (lo << r) | (hi >>> (32 - r));
}

/** XXH64_round: rotl(acc + input * P2, 31) * P1. */
function round(accHi: number, accLo: number, inHi: number, inLo: number): number {
  let lo = mul(inHi, inLo, P2_HI, P2_LO);
  lo = add(accHi, accLo, hiOut, lo);
  lo = rotl(hiOut, lo, 31);
  return mul(hiOut, lo, P1_HI, P1_LO);
}

/** XXH64_mergeRound: (acc ^ round(0, val)) * P1 + P4. */
function mergeRound(accHi: number, accLo: number, valHi: number, valLo: number): number {
  const kLo = round(0, 0, valHi, valLo);
  const lo = mul(accHi ^ hiOut, accLo ^ kLo, P1_HI, P1_LO);
  return add(hiOut, lo, P4_HI, P4_LO);
}

/** Little-endian uint32 at `i`; plain indexing is correct for views at any byteOffset. */
function read32(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

/**
 * Hashes `input` with `seed` (a uint32) and writes the 64-bit digest into `out`: the high half at
 * `out[offset]`, the low half at `out[offset + 1]`. Comparing (high, low) lexicographically is
 * comparing the 64-bit values, which is all the ring needs.
 */
export function xxhash64(input: Uint8Array, seed: number, out: Uint32Array, offset = 0): void {
  if (!(input instanceof Uint8Array)) throw new TypeError('xxhash64: input must be a Uint8Array');
  if (seed >>> 0 !== seed) throw new TypeError(`xxhash64: seed must be a uint32, got ${String(seed)}`);
  if (!(out instanceof Uint32Array) || !Number.isInteger(offset) || offset < 0 || offset + 2 > out.length) {
    throw new TypeError('xxhash64: out must be a Uint32Array with room for two elements at offset');
  }
  const len = input.length;
  let i = 0;
  let hHi: number, hLo: number;

  if (len >= 32) {
    // Four accumulators consume 32-byte stripes, one 8-byte lane each.
    let v1Lo = add(0, seed, P1_PLUS_P2_HI, P1_PLUS_P2_LO), v1Hi = hiOut;
    let v2Lo = add(0, seed, P2_HI, P2_LO), v2Hi = hiOut;
    let v3Lo = seed | 0, v3Hi = 0;
    let v4Lo = add(0, seed, MINUS_P1_HI, MINUS_P1_LO), v4Hi = hiOut;
    const limit = len - 32;
    do {
      v1Lo = round(v1Hi, v1Lo, read32(input, i + 4), read32(input, i)); v1Hi = hiOut;
      v2Lo = round(v2Hi, v2Lo, read32(input, i + 12), read32(input, i + 8)); v2Hi = hiOut;
      v3Lo = round(v3Hi, v3Lo, read32(input, i + 20), read32(input, i + 16)); v3Hi = hiOut;
      v4Lo = round(v4Hi, v4Lo, read32(input, i + 28), read32(input, i + 24)); v4Hi = hiOut;
      i += 32;
    } while (i <= limit);

    // h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18), then merge each accumulator.
    let rLo: number, rHi: number;
    hLo = rotl(v1Hi, v1Lo, 1); hHi = hiOut;
    rLo = rotl(v2Hi, v2Lo, 7); rHi = hiOut;
    hLo = add(hHi, hLo, rHi, rLo); hHi = hiOut;
    rLo = rotl(v3Hi, v3Lo, 12); rHi = hiOut;
    hLo = add(hHi, hLo, rHi, rLo); hHi = hiOut;
    rLo = rotl(v4Hi, v4Lo, 18); rHi = hiOut;
    hLo = add(hHi, hLo, rHi, rLo); hHi = hiOut;
    hLo = mergeRound(hHi, hLo, v1Hi, v1Lo); hHi = hiOut;
    hLo = mergeRound(hHi, hLo, v2Hi, v2Lo); hHi = hiOut;
    hLo = mergeRound(hHi, hLo, v3Hi, v3Lo); hHi = hiOut;
    hLo = mergeRound(hHi, hLo, v4Hi, v4Lo); hHi = hiOut;
  } else {
    hLo = add(0, seed, P5_HI, P5_LO); hHi = hiOut;
  }

  // h += len (a typed array's length can exceed 2^32 - 1 in principle, so split it too).
  hLo = add(hHi, hLo, Math.floor(len / 0x1_0000_0000) >>> 0, len >>> 0); hHi = hiOut;

  // Remaining 8-byte lanes: h = rotl(h ^ round(0, lane), 27) * P1 + P4.
  while (i + 8 <= len) {
    const kLo = round(0, 0, read32(input, i + 4), read32(input, i));
    hHi ^= hiOut;
    hLo ^= kLo;
    hLo = rotl(hHi, hLo, 27); hHi = hiOut;
    hLo = mul(hHi, hLo, P1_HI, P1_LO); hHi = hiOut;
    hLo = add(hHi, hLo, P4_HI, P4_LO); hHi = hiOut;
    i += 8;
  }
  // One remaining 4-byte word: h = rotl(h ^ (word * P1), 23) * P2 + P3.
  if (i + 4 <= len) {
    const kLo = mul(0, read32(input, i), P1_HI, P1_LO);
    hHi ^= hiOut;
    hLo ^= kLo;
    hLo = rotl(hHi, hLo, 23); hHi = hiOut;
    hLo = mul(hHi, hLo, P2_HI, P2_LO); hHi = hiOut;
    hLo = add(hHi, hLo, P3_HI, P3_LO); hHi = hiOut;
    i += 4;
  }
  // Remaining bytes: h = rotl(h ^ (byte * P5), 11) * P1.
  while (i < len) {
    const kLo = mul(0, input[i]!, P5_HI, P5_LO);
    hHi ^= hiOut;
    hLo ^= kLo;
    hLo = rotl(hHi, hLo, 11); hHi = hiOut;
    hLo = mul(hHi, hLo, P1_HI, P1_LO); hHi = hiOut;
    i += 1;
  }

  // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
  hLo ^= hHi >>> 1;
  hLo = mul(hHi, hLo, P2_HI, P2_LO); hHi = hiOut;
  hLo ^= (hLo >>> 29) | (hHi << 3);
  hHi ^= hHi >>> 29;
  hLo = mul(hHi, hLo, P3_HI, P3_LO); hHi = hiOut;
  hLo ^= hHi;

  out[offset] = hHi;
  out[offset + 1] = hLo;
}

const scratch = new Uint32Array(2);

/** The digest as a bigint; convenient for tests and diagnostics, not for hot paths. */
export function xxhash64BigInt(input: Uint8Array, seed: number): bigint {
  xxhash64(input, seed, scratch);
  return (BigInt(scratch[0]!) << 32n) | BigInt(scratch[1]!);
}

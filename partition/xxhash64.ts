/**
 * xxHash64 (XXH64, https://github.com/Cyan4973/xxHash) of a byte array with a 32-bit seed.
 *
 * Every key a client routes is hashed here, so the hot path uses only 32-bit integer arithmetic on
 * the high and low halves of each 64-bit value: BigInt allocates per operation and is an order of
 * magnitude slower. Each 64-bit step is written as two statements, one per half, with small pure
 * helpers that return one int32 each; V8 inlines them and keeps every half in a register. (Helpers
 * that returned one half and left the other in a module variable ran at less than half the speed.)
 * Halves are kept as int32 (`| 0`), not uint32, so they stay small integers in V8 and never box.
 */

// The five 64-bit primes of XXH64 as (high, low) int32 halves.
const P1_HI = 0x9e3779b1 | 0, P1_LO = 0x85ebca87 | 0;
const P2_HI = 0xc2b2ae3d | 0, P2_LO = 0x27d4eb4f;
const P3_HI = 0x165667b1, P3_LO = 0x9e3779f9 | 0;
const P4_HI = 0x85ebca77 | 0, P4_LO = 0xc2b2ae63 | 0;
const P5_HI = 0x27d4eb2f, P5_LO = 0x165667c5;
// P1 + P2 and -P1 (mod 2^64): the initial offsets of the first and fourth stripe accumulators.
const P1_PLUS_P2_HI = 0x60ea27ee, P1_PLUS_P2_LO = 0xadc0b5d6 | 0;
const MINUS_P1_HI = 0x61c8864e, MINUS_P1_LO = 0x7a143579;

/** High half of (aHi:aLo * bHi:bLo) mod 2^64; the low half is `Math.imul(aLo, bLo)`. */
function mulHi(aHi: number, aLo: number, bHi: number, bLo: number): number {
  // With 16-bit digits, aLo * bLo = a1*b1 * 2^32 + (a1*b0 + a0*b1) * 2^16 + a0*b0. t and u carry
  // the middle terms into the high half with every intermediate below 2^33, so exact in a double.
  // The cross terms aHi*bLo and aLo*bHi only reach the high half, where the wrapping Math.imul is
  // exactly what mod 2^64 needs. (Math.round of the double product is shorter but slower.)
  const a0 = aLo & 0xffff, a1 = aLo >>> 16;
  const b0 = bLo & 0xffff, b1 = bLo >>> 16;
  const t = a1 * b0 + ((a0 * b0) >>> 16);
  const u = a0 * b1 + (t & 0xffff);
  return (a1 * b1 + (t >>> 16) + (u >>> 16) + Math.imul(aHi, bLo) + Math.imul(aLo, bHi)) | 0;
}

/** High half of (aHi:aLo + bHi:bLo) mod 2^64; the low half is `(aLo + bLo) | 0`. */
function addHi(aHi: number, aLo: number, bHi: number, bLo: number): number {
  const carry = (aLo >>> 0) + (bLo >>> 0) > 0xffff_ffff ? 1 : 0;
  return (aHi + bHi + carry) | 0;
}

/** High half of hi:lo rotated left by 0 < r < 32 bits (XXH64 only rotates by 1..31). */
function rotlHi(hi: number, lo: number, r: number): number {
  return (hi << r) | (lo >>> (32 - r));
}

/** Low half of hi:lo rotated left by 0 < r < 32 bits. */
function rotlLo(hi: number, lo: number, r: number): number {
  return (lo << r) | (hi >>> (32 - r));
}

/** Little-endian 32-bit word at `i` (as an int32); plain indexing is right at any byteOffset. */
function read32(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

// Long inputs are the cold path, so their state lives in one buffer updated in place rather than
// in sixteen hand-written statements per stripe: the four stripe accumulators as (hi, lo) pairs at
// [0..8), then the merged hash h at [8..10).
const acc = new Int32Array(10);
const H = 8;

/** XXH64_round on accumulator `j`: acc = rotl(acc + lane * P2, 31) * P1, lane = input[i..i+8). */
function roundAt(j: number, input: Uint8Array, i: number): void {
  const laneLo = read32(input, i), laneHi = read32(input, i + 4);
  const tHi = mulHi(laneHi, laneLo, P2_HI, P2_LO), tLo = Math.imul(laneLo, P2_LO);
  const aHi = acc[2 * j]!, aLo = acc[2 * j + 1]!;
  const sHi = addHi(aHi, aLo, tHi, tLo), sLo = (aLo + tLo) | 0;
  const rHi = rotlHi(sHi, sLo, 31), rLo = rotlLo(sHi, sLo, 31);
  acc[2 * j] = mulHi(rHi, rLo, P1_HI, P1_LO);
  acc[2 * j + 1] = Math.imul(rLo, P1_LO);
}

/** XXH64_mergeRound of accumulator `j` into h: h = (h ^ round(0, acc)) * P1 + P4. */
function mergeAt(j: number): void {
  const vHi = acc[2 * j]!, vLo = acc[2 * j + 1]!;
  const tHi = mulHi(vHi, vLo, P2_HI, P2_LO), tLo = Math.imul(vLo, P2_LO);
  const rHi = rotlHi(tHi, tLo, 31), rLo = rotlLo(tHi, tLo, 31);
  const xHi = acc[H]! ^ mulHi(rHi, rLo, P1_HI, P1_LO), xLo = acc[H + 1]! ^ Math.imul(rLo, P1_LO);
  const mHi = mulHi(xHi, xLo, P1_HI, P1_LO), mLo = Math.imul(xLo, P1_LO);
  acc[H] = addHi(mHi, mLo, P4_HI, P4_LO);
  acc[H + 1] = (mLo + P4_LO) | 0;
}

/**
 * Consumes the 32-byte stripes of input[0..end) (end a positive multiple of 32) and leaves XXH64's
 * state h in acc[H..H+2). Kept out of `xxhash64` so that the short-key path stays small.
 */
function stripes(input: Uint8Array, seed: number, end: number): void {
  acc[0] = addHi(0, seed, P1_PLUS_P2_HI, P1_PLUS_P2_LO); acc[1] = (seed + P1_PLUS_P2_LO) | 0;
  acc[2] = addHi(0, seed, P2_HI, P2_LO); acc[3] = (seed + P2_LO) | 0;
  acc[4] = 0; acc[5] = seed | 0;
  acc[6] = addHi(0, seed, MINUS_P1_HI, MINUS_P1_LO); acc[7] = (seed + MINUS_P1_LO) | 0;
  for (let i = 0; i < end; i += 32) {
    roundAt(0, input, i);
    roundAt(1, input, i + 8);
    roundAt(2, input, i + 16);
    roundAt(3, input, i + 24);
  }
  // h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18), then each accumulator merged in.
  let hHi = 0, hLo = 0;
  for (let j = 0; j < 4; j++) {
    const r = j === 0 ? 1 : j === 1 ? 7 : j === 2 ? 12 : 18;
    const vHi = acc[2 * j]!, vLo = acc[2 * j + 1]!;
    const rHi = rotlHi(vHi, vLo, r), rLo = rotlLo(vHi, vLo, r);
    const sHi = addHi(hHi, hLo, rHi, rLo);
    hLo = (hLo + rLo) | 0;
    hHi = sHi;
  }
  acc[H] = hHi;
  acc[H + 1] = hLo;
  for (let j = 0; j < 4; j++) mergeAt(j);
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
  let i = len - (len % 32);
  let hHi: number, hLo: number;
  if (i > 0) {
    stripes(input, seed, i);
    hHi = acc[H]!;
    hLo = acc[H + 1]!;
  } else {
    hHi = addHi(0, seed, P5_HI, P5_LO);
    hLo = (seed + P5_LO) | 0;
  }
  // h += len (split in halves: a typed array's length may exceed 2^32 - 1).
  const lenHi = Math.floor(len / 0x1_0000_0000) | 0, lenLo = len | 0;
  let tHi = addHi(hHi, hLo, lenHi, lenLo), tLo = (hLo + lenLo) | 0;
  hHi = tHi;
  hLo = tLo;

  // Remaining 8-byte lanes: h = rotl(h ^ round(0, lane), 27) * P1 + P4,
  // where round(0, lane) = rotl(lane * P2, 31) * P1.
  for (; i + 8 <= len; i += 8) {
    const laneLo = read32(input, i), laneHi = read32(input, i + 4);
    tHi = mulHi(laneHi, laneLo, P2_HI, P2_LO); tLo = Math.imul(laneLo, P2_LO);
    let rHi = rotlHi(tHi, tLo, 31), rLo = rotlLo(tHi, tLo, 31);
    hHi ^= mulHi(rHi, rLo, P1_HI, P1_LO); hLo ^= Math.imul(rLo, P1_LO);
    rHi = rotlHi(hHi, hLo, 27); rLo = rotlLo(hHi, hLo, 27);
    tHi = mulHi(rHi, rLo, P1_HI, P1_LO); tLo = Math.imul(rLo, P1_LO);
    hHi = addHi(tHi, tLo, P4_HI, P4_LO); hLo = (tLo + P4_LO) | 0;
  }
  // One remaining 4-byte word: h = rotl(h ^ (word * P1), 23) * P2 + P3 (the word is unsigned).
  if (i + 4 <= len) {
    const word = read32(input, i);
    hHi ^= mulHi(0, word, P1_HI, P1_LO); hLo ^= Math.imul(word, P1_LO);
    const rHi = rotlHi(hHi, hLo, 23), rLo = rotlLo(hHi, hLo, 23);
    tHi = mulHi(rHi, rLo, P2_HI, P2_LO); tLo = Math.imul(rLo, P2_LO);
    hHi = addHi(tHi, tLo, P3_HI, P3_LO); hLo = (tLo + P3_LO) | 0;
    i += 4;
  }
  // Remaining bytes: h = rotl(h ^ (byte * P5), 11) * P1.
  for (; i < len; i++) {
    const byte = input[i]!;
    hHi ^= mulHi(0, byte, P5_HI, P5_LO); hLo ^= Math.imul(byte, P5_LO);
    const rHi = rotlHi(hHi, hLo, 11), rLo = rotlLo(hHi, hLo, 11);
    hHi = mulHi(rHi, rLo, P1_HI, P1_LO); hLo = Math.imul(rLo, P1_LO);
  }

  // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
  hLo ^= hHi >>> 1;
  tHi = mulHi(hHi, hLo, P2_HI, P2_LO); hLo = Math.imul(hLo, P2_LO); hHi = tHi;
  hLo ^= (hLo >>> 29) | (hHi << 3);
  hHi ^= hHi >>> 29;
  tHi = mulHi(hHi, hLo, P3_HI, P3_LO); hLo = Math.imul(hLo, P3_LO); hHi = tHi;
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

/**
 * Order-preserving fixed-width encodings of the numeric key types. All are big-endian, so the most
 * significant byte is compared first:
 * - unsigned integers: plain big-endian;
 * - signed integers: two's complement with the sign bit flipped, which maps [min, max] onto
 *   [0, 2^n - 1] monotonically;
 * - floats: the IEEE 754 bits; a negative number (sign bit set, including -0) has all its bits
 *   inverted, a non-negative one has its sign bit set. Negatives then sort below non-negatives and
 *   larger magnitudes of negatives sort lower. Consequences: -Infinity < -MAX < ... < -subnormal
 *   < -0 < +0 < +subnormal < ... < +Infinity, and -0 and +0 are distinct keys. NaN is refused before
 *   it gets here; bytes that decode to a NaN are malformed.
 */

import { badKey } from './key-errors.js';

export type FixedWidthKeyType = 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64';

export const FIXED_WIDTH: Readonly<Record<FixedWidthKeyType, number>> = {
  int32: 4, uint32: 4, int64: 8, uint64: 8, float32: 4, float64: 8,
};

export function isFixedWidth(type: string): type is FixedWidthKeyType {
  return Object.hasOwn(FIXED_WIDTH, type);
}

/** Encodes a checked value (see key-check.ts) of a fixed-width type. */
export function encodeFixed(type: FixedWidthKeyType, value: number | bigint): Buffer {
  const out = Buffer.alloc(FIXED_WIDTH[type]);
  switch (type) {
    case 'int32': out.writeInt32BE(value as number); out[0]! ^= 0x80; break;
    case 'uint32': out.writeUInt32BE(value as number); break;
    case 'int64': out.writeBigInt64BE(value as bigint); out[0]! ^= 0x80; break;
    case 'uint64': out.writeBigUInt64BE(value as bigint); break;
    case 'float32': out.writeFloatBE(value as number); orderFloatBits(out); break;
    case 'float64': out.writeDoubleBE(value as number); orderFloatBits(out); break;
  }
  return out;
}

/** Decodes the `FIXED_WIDTH[type]` bytes at `offset`; the caller has checked they are there. */
export function decodeFixed(type: FixedWidthKeyType, bytes: Uint8Array, offset: number): number | bigint {
  const b = Buffer.from(bytes.subarray(offset, offset + FIXED_WIDTH[type])); // a copy: we flip bits in place
  switch (type) {
    case 'int32': b[0]! ^= 0x80; return b.readInt32BE();
    case 'uint32': return b.readUInt32BE();
    case 'int64': b[0]! ^= 0x80; return b.readBigInt64BE();
    case 'uint64': return b.readBigUInt64BE();
    case 'float32': return readFloat(type, b, () => b.readFloatBE());
    case 'float64': return readFloat(type, b, () => b.readDoubleBE());
  }
}

function orderFloatBits(b: Buffer): void {
  if ((b[0]! & 0x80) !== 0) {
    for (let i = 0; i < b.length; i++) b[i] = ~b[i]! & 0xff;
  } else {
    b[0]! |= 0x80;
  }
}

function readFloat(type: FixedWidthKeyType, b: Buffer, read: () => number): number {
  // Undo orderFloatBits: a set top bit means the number was non-negative.
  if ((b[0]! & 0x80) !== 0) {
    b[0]! &= 0x7f;
  } else {
    for (let i = 0; i < b.length; i++) b[i] = ~b[i]! & 0xff;
  }
  const value = read();
  if (Number.isNaN(value)) {
    throw badKey(`bytes are a NaN, which is never a ${type} key`, { reason: 'malformed encoding', expected: type, got: 'NaN bits' });
  }
  return value;
}

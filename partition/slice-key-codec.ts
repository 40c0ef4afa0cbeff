/**
 * Numeric views of encoded keys for MDHIM-style slicing. Kept local to partition/ on purpose:
 * the typed key encodings in core/keys are written in parallel, so this file only decodes their
 * documented order-preserving forms and must stay in step with them:
 *   int32 / int64     big-endian two's complement with the sign bit flipped (4 / 8 bytes)
 *   uint32 / uint64   big-endian (4 / 8 bytes)
 *   float32 / float64 IEEE 754 big-endian; negatives have every bit inverted, others the sign bit
 *   string / bytes    UTF-8 / raw bytes
 *
 * Every encoded key maps to a "code": an unsigned integer whose order is the key order. For the
 * fixed-width types the code is simply the encoded bytes read big-endian, so the next code is the
 * next key. For string and bytes the code is the first 8 bytes read big-endian, zero-padded when
 * the key is shorter: the only total, order-preserving way to put arbitrary-length keys on a
 * number line, at the price that all keys sharing their first 8 bytes share a code, hence a slice
 * and a server (long common prefixes such as "/scratch/run42/..." pile onto one server), and that
 * slice sizes for these types are counted in units of that 64-bit prefix space.
 */

export type SliceKeyType = 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64' | 'string' | 'bytes';

export const SLICE_KEY_TYPES: readonly SliceKeyType[] = ['int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'string', 'bytes'];

export function isSliceKeyType(value: unknown): value is SliceKeyType {
  return typeof value === 'string' && (SLICE_KEY_TYPES as readonly string[]).includes(value);
}

/** Floats slice as numbers (sizes may be fractional); everything else as exact bigints. */
export function isFloatKeyType(keyType: SliceKeyType): keyType is 'float32' | 'float64' {
  return keyType === 'float32' || keyType === 'float64';
}

export interface KeyCodec {
  /** Codes run over 0..2^bits-1. */
  readonly bits: 32 | 64;
  /** The key's code; a fixed-width key of the wrong length is a RangeError. */
  codeOf(key: Uint8Array): bigint;
  /** The smallest key whose code is `code`. */
  keyOf(code: bigint): Uint8Array;
  /** The numeric value the code stands for (floats as numbers, integers exactly as bigints). */
  valueOf(code: bigint): bigint | number;
}

const TWO_31 = 1n << 31n;
const TWO_63 = 1n << 63n;

export function keyCodec(keyType: SliceKeyType): KeyCodec {
  switch (keyType) {
    case 'int32': return fixed(32, (code) => code - TWO_31);
    case 'uint32': return fixed(32, (code) => code);
    case 'int64': return fixed(64, (code) => code - TWO_63);
    case 'uint64': return fixed(64, (code) => code);
    case 'float32': return fixed(32, (code) => floatOf(code, 32));
    case 'float64': return fixed(64, (code) => floatOf(code, 64));
    case 'string':
    case 'bytes': return PREFIX_CODEC;
    default: {
      const unknown: never = keyType;
      throw new TypeError(`keyCodec: unknown key type ${String(unknown)}`);
    }
  }
}

function fixed(bits: 32 | 64, valueOf: (code: bigint) => bigint | number): KeyCodec {
  const bytes = bits / 8;
  return {
    bits,
    codeOf(key) {
      if (key.length !== bytes) throw new RangeError(`a ${bits}-bit key must be ${bytes} bytes, got ${key.length}`);
      return readBig(key, bytes);
    },
    keyOf: (code) => writeBig(code, bytes),
    valueOf,
  };
}

const PREFIX_CODEC: KeyCodec = {
  bits: 64,
  codeOf: (key) => readBig(key, 8),
  // Trailing zero bytes are padding the code cannot tell from absent bytes; the shortest key is
  // the smallest one with this code (e.g. code of "ab" + six zeros -> "ab").
  keyOf(code) {
    const full = writeBig(code, 8);
    let end = 8;
    while (end > 0 && full[end - 1] === 0) end--;
    return full.subarray(0, end);
  },
  valueOf: (code) => code,
};

/** The first `bytes` bytes big-endian, zero-padded. */
function readBig(key: Uint8Array, bytes: number): bigint {
  let code = 0n;
  for (let i = 0; i < bytes; i++) code = (code << 8n) | BigInt(key[i] ?? 0);
  return code;
}

function writeBig(code: bigint, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = bytes - 1; i >= 0; i--) {
    out[i] = Number(code & 0xffn);
    code >>= 8n;
  }
  return out;
}

/** Undo the float encoding: a set top bit means the value was non-negative (only the sign flipped). */
function floatOf(code: bigint, bits: 32 | 64): number {
  const top = 1n << BigInt(bits - 1);
  const mask = (1n << BigInt(bits)) - 1n;
  const raw = code >= top ? code - top : ~code & mask;
  const view = new DataView(new ArrayBuffer(8));
  if (bits === 64) {
    view.setBigUint64(0, raw);
    return view.getFloat64(0);
  }
  view.setUint32(0, Number(raw));
  return view.getFloat32(0);
}

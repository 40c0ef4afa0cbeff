/**
 * `keyCodec(type)`: order-preserving encodings of typed keys to the bytes LevelDB stores, so that
 * Buffer.compare of encodings has the sign of `compare` on values.
 *
 * Top-level keys of a scalar type are written bare: fixed-width numbers as in fixed-width.ts,
 * strings as plain UTF-8, bytes as themselves. Tuples are tagged components (tuple-encoding.ts).
 * Documented choices:
 * - float32 keys are rounded with Math.fround (finite values beyond the float32 range are refused);
 *   decode returns the float32 value as a number.
 * - -0 and +0 are distinct float keys, -0 first; integer types take -0 as 0.
 * - string order is code point order, which differs from JS `<` on astral vs U+E000..U+FFFF
 *   characters; lone surrogates are refused (UTF-8 cannot carry them).
 * - the empty string / empty bytes encode to an empty key, which the store itself refuses
 *   (HPCKV_ERR_BAD_REQUEST, see docs/errors.md), as it refuses keys beyond limits.keyBytesMax.
 * - `encode` and `decode` take complete keys; `encodePrefix` and `prefixRange` take the first
 *   0..n components of a tuple ([] or [key] for a scalar type) for range scans, and `compare`
 *   accepts tuple prefixes too. Nested tuples inside a prefix must be complete.
 * Every failure is HpckvError HPCKV_ERR_BAD_KEY; an invalid `type` is HPCKV_ERR_BAD_CONFIG.
 */

import { checkKey, checkPrefix } from './key-check.js';
import { compareChecked } from './key-compare.js';
import { badKey, jsTypeName } from './key-errors.js';
import { assertKeyType, formatKeyType, isScalarKeyType, type KeyType, type KeyValue } from './key-type.js';
import { decodeFixed, encodeFixed, FIXED_WIDTH, isFixedWidth } from './fixed-width.js';
import { decodeComponents, encodeComponents } from './tuple-encoding.js';
import { decodeUtf8, encodeUtf8 } from './utf8.js';

export interface KeyCodec {
  readonly type: KeyType;
  /** The bytes of a complete key. */
  encode(value: KeyValue): Buffer;
  /** The bytes of a key prefix: a byte prefix of, and sorting before, the encodings of its extensions. */
  encodePrefix(components: readonly KeyValue[]): Buffer;
  /** The byte range holding exactly the keys that extend `components` (a scan's bounds). */
  prefixRange(components: readonly KeyValue[]): KeyRange;
  /** The key whose encoding `bytes` is; anything else (truncated, trailing bytes, NaN bits...) is BAD_KEY. */
  decode(bytes: Uint8Array): KeyValue;
  /** The natural order (negative, 0, positive); tuple arguments may be prefixes. */
  compare(a: KeyValue, b: KeyValue): number;
}

/** Encoded keys k with gte <= k < lt (Buffer.compare); `lt: null` means to the end of the store. */
export interface KeyRange {
  readonly gte: Buffer;
  readonly lt: Buffer | null;
}

export function keyCodec(type: KeyType): KeyCodec {
  assertKeyType(type);
  const encodePrefix = (components: readonly KeyValue[]): Buffer => {
    const checked = checkPrefix(type, components);
    if (isScalarKeyType(type)) return checked.length === 0 ? Buffer.alloc(0) : encodeChecked(type, checked[0]!);
    return encodeChecked(type, checked);
  };
  return {
    type,
    encode: (value) => encodeChecked(type, checkKey(type, value)),
    encodePrefix,
    prefixRange: (components) => {
      const gte = encodePrefix(components);
      if (!isScalarKeyType(type)) return { gte, lt: Buffer.concat([gte, Buffer.of(0xff)]) }; // see tuple-encoding.ts
      // A scalar prefix is all keys or one key; gte + 00 is the next byte string after gte.
      return { gte, lt: components.length === 0 ? null : Buffer.concat([gte, Buffer.of(0x00)]) };
    },
    decode: (bytes) => decodeKey(type, bytes),
    compare: (a, b) => compareChecked(type, checkComparable(type, a), checkComparable(type, b)),
  };
}

function checkComparable(type: KeyType, value: KeyValue): KeyValue {
  return isScalarKeyType(type) ? checkKey(type, value) : checkPrefix(type, value);
}

/** `value` is checked; a tuple value may be a prefix. */
function encodeChecked(type: KeyType, value: KeyValue): Buffer {
  if (!isScalarKeyType(type)) {
    const parts: Buffer[] = [];
    encodeComponents(type.tuple, value as readonly KeyValue[], parts);
    return Buffer.concat(parts);
  }
  if (isFixedWidth(type)) return encodeFixed(type, value as number | bigint);
  if (type === 'string') return encodeUtf8(value as string);
  return Buffer.from(value as Uint8Array); // a copy: the caller may reuse its buffer
}

function decodeKey(type: KeyType, bytes: Uint8Array): KeyValue {
  if (!(bytes instanceof Uint8Array)) {
    throw badKey('only bytes can be decoded', { reason: 'wrong type', expected: 'Uint8Array', got: jsTypeName(bytes) });
  }
  if (!isScalarKeyType(type)) {
    const { values, next } = decodeComponents(type.tuple, bytes, 0);
    if (next !== bytes.length) throw malformed(type, `${bytes.length - next} bytes after the key`);
    return values;
  }
  if (isFixedWidth(type)) {
    if (bytes.length !== FIXED_WIDTH[type]) throw malformed(type, `${bytes.length} bytes, not ${FIXED_WIDTH[type]}`);
    return decodeFixed(type, bytes, 0);
  }
  if (type === 'string') return decodeUtf8(bytes);
  return Uint8Array.from(bytes);
}

function malformed(type: KeyType, got: string): Error {
  return badKey(`bytes are not a ${formatKeyType(type)} key: ${got}`, { reason: 'malformed encoding', expected: formatKeyType(type), got });
}

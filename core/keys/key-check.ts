/**
 * Validation of keys against a key type, before anything is encoded or compared. Returns the key
 * normalised: float32 values rounded with Math.fround (so that encode, compare and decode all see
 * the same value), integer -0 turned into 0 (integer encodings have no -0), a safe-integer number
 * given for an int64 or uint64 key turned into its bigint. Everything else is returned as given.
 * A value that is not of the type, or cannot be encoded, is HPCKV_ERR_BAD_KEY.
 */

import { badKey, jsTypeName, type BadKeyReason } from './key-errors.js';
import { formatKeyType, isScalarKeyType, type KeyType, type KeyValue, type ScalarKeyType, type TupleKeyType } from './key-type.js';

const INT_RANGES = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
} as const;

const BIGINT_RANGES = {
  int64: [-(1n << 63n), (1n << 63n) - 1n],
  uint64: [0n, (1n << 64n) - 1n],
} as const;

// In a /u regex a surrogate pair is one code point, so \p{Cs} matches only lone surrogates.
const LONE_SURROGATE = /\p{Cs}/u;

/** Checks a complete key. */
export function checkKey(type: KeyType, value: unknown): KeyValue {
  return check(type, value, '');
}

/**
 * Checks a prefix for range scans: for a tuple type, its first 0..n components (each complete);
 * for a scalar type, [] or [key].
 */
export function checkPrefix(type: KeyType, prefix: unknown): KeyValue[] {
  const types = isScalarKeyType(type) ? [type] : type.tuple;
  if (!Array.isArray(prefix) || prefix.length > types.length) {
    const got = Array.isArray(prefix) ? `array of ${prefix.length}` : jsTypeName(prefix);
    throw badKey(`a key prefix of ${formatKeyType(type)} is an array of at most ${types.length} components`, {
      reason: Array.isArray(prefix) ? 'wrong arity' : 'wrong type', expected: formatKeyType(type), got,
    });
  }
  return prefix.map((component: unknown, i) => check(types[i]!, component, isScalarKeyType(type) ? '' : String(i)));
}

function check(type: KeyType, value: unknown, path: string): KeyValue {
  return isScalarKeyType(type) ? checkScalar(type, value, path) : checkTuple(type, value, path);
}

function refuse(type: KeyType, value: unknown, path: string, reason: BadKeyReason, what: string): never {
  const where = path === '' ? '' : ` (tuple component ${path})`;
  throw badKey(`key${where} ${what}: expected ${formatKeyType(type)}`, {
    reason, expected: formatKeyType(type), got: jsTypeName(value), component: path,
  });
}

function checkScalar(type: ScalarKeyType, value: unknown, path: string): KeyValue {
  switch (type) {
    case 'int32':
    case 'uint32': {
      if (typeof value !== 'number') return refuse(type, value, path, 'wrong type', `is a ${jsTypeName(value)}`);
      if (Number.isNaN(value)) return refuse(type, value, path, 'NaN', 'is NaN');
      if (!Number.isInteger(value)) return refuse(type, value, path, 'not an integer', `${value} is not an integer`);
      const [min, max] = INT_RANGES[type];
      if (value < min || value > max) return refuse(type, value, path, 'out of range', `${value} is out of range`);
      return value === 0 ? 0 : value;
    }
    case 'int64':
    case 'uint64': {
      const big = typeof value === 'number' ? safeIntegerAsBigint(type, value, path) : value;
      if (typeof big !== 'bigint') return refuse(type, value, path, 'wrong type', `is a ${jsTypeName(value)}`);
      const [min, max] = BIGINT_RANGES[type];
      if (big < min || big > max) return refuse(type, value, path, 'out of range', `${big} is out of range`);
      return big;
    }
    case 'float32':
    case 'float64': {
      if (typeof value !== 'number') return refuse(type, value, path, 'wrong type', `is a ${jsTypeName(value)}`);
      if (Number.isNaN(value)) return refuse(type, value, path, 'NaN', 'is NaN (NaN has no place in an order)');
      if (type === 'float64') return value;
      const rounded = Math.fround(value);
      // Rounding a finite number up to ±Infinity would silently change its order class.
      if (!Number.isFinite(rounded) && Number.isFinite(value)) {
        return refuse(type, value, path, 'out of range', `${value} is beyond the float32 range`);
      }
      return rounded;
    }
    case 'string':
      if (typeof value !== 'string') return refuse(type, value, path, 'wrong type', `is a ${jsTypeName(value)}`);
      // UTF-8 cannot carry a lone surrogate; Buffer.from would silently turn it into U+FFFD.
      if (LONE_SURROGATE.test(value)) return refuse(type, value, path, 'lone surrogate', 'has a lone UTF-16 surrogate');
      return value;
    case 'bytes':
      if (!(value instanceof Uint8Array)) return refuse(type, value, path, 'wrong type', `is a ${jsTypeName(value)}`);
      return value;
  }
}

/**
 * A number given for a 64-bit key, as a bigint: a safe integer is exact, so it is taken (as the
 * MDHIM facade always took long keys); beyond 2^53 a number may already have lost digits, so it is
 * refused rather than stored as a neighbouring key.
 */
function safeIntegerAsBigint(type: ScalarKeyType, value: number, path: string): bigint {
  if (Number.isNaN(value)) return refuse(type, value, path, 'NaN', 'is NaN');
  if (!Number.isInteger(value)) return refuse(type, value, path, 'not an integer', `${value} is not an integer`);
  if (!Number.isSafeInteger(value)) return refuse(type, value, path, 'out of range', `${value} is beyond the safe integers: pass a bigint`);
  return BigInt(value);
}

function checkTuple(type: TupleKeyType, value: unknown, path: string): KeyValue {
  if (!Array.isArray(value)) return refuse(type, value, path, 'wrong type', `is a ${jsTypeName(value)}`);
  if (value.length !== type.tuple.length) {
    return refuse(type, value, path, 'wrong arity', `has ${value.length} components`);
  }
  const prefix = path === '' ? '' : `${path}.`;
  return type.tuple.map((componentType, i) => check(componentType, value[i], `${prefix}${i}`));
}

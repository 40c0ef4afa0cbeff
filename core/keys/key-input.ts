/**
 * Keys as callers give them, turned into the bytes a store of one key type holds. One rule for
 * the client (Client.encodeKey and every range it sends), for placement asked without servers
 * (partition/placement.ts) and for the split points of a range partition
 * (partition/range-partition.ts), so all of them encode a key exactly alike:
 * - a `bytes` store takes bytes, or a string as its UTF-8 bytes;
 * - a typed store takes a value of its type (core/keys/key-codec.ts);
 * - a range bound of a tuple store may be a prefix (its leading components), which stands for the
 *   block of keys that start with it: `gte` and `lt` bound at the block's first key, `gt` and
 *   `lte` just after its last, so `{ gte: ['mu'], lte: ['mu'] }` is every key of run "mu".
 * The keyBytesMax check is the client's: a split point or a placement question has no limits.
 */

import { asBuffer } from '../wire/as-buffer.js';
import { keyCodec, type KeyCodec } from './key-codec.js';
import { badKey, jsTypeName } from './key-errors.js';
import { formatKeyType, isScalarKeyType, parseKeyType, type KeyType, type KeyValue } from './key-type.js';

/** What callers may pass as bytes: bytes, or a string stored as its UTF-8 bytes. */
export type BytesInput = Uint8Array | string;

/** Bytes, or a string's UTF-8 bytes; anything else is a TypeError naming `what`. */
export function toBytes(input: unknown, what: string): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (typeof input === 'string') return Buffer.from(input, 'utf8');
  throw new TypeError(`${what} must be a Uint8Array or a string, got ${jsTypeName(input)}`);
}

/** The keys that extend a tuple prefix: first <= key < end (byte order). */
export interface PrefixBlock {
  readonly first: Buffer;
  readonly end: Buffer;
}

/** The keys starting with a prefix: gte <= key < lt; an absent bound is an open end. */
export interface PrefixRange {
  gte?: Buffer;
  lt?: Buffer;
}

export interface KeyInputEncoder {
  /** The key type in its canonical text form. */
  readonly keyType: string;
  /** A complete key's stored bytes. */
  key(input: KeyValue): Uint8Array;
  /** A range bound: a complete key's bytes, or for a tuple prefix the block of keys extending it. */
  bound(input: KeyValue): Uint8Array | PrefixBlock;
  /**
   * The keys starting with `prefix`: the leading components of a tuple key, the leading bytes of
   * a `bytes` key, the leading characters of a `string` key. Other key types have no prefixes.
   */
  prefixRange(prefix: KeyValue): PrefixRange;
  /** A stored key's value (a Buffer view for a `bytes` store). */
  decode(bytes: Uint8Array): KeyValue;
}

/** The encoder of keys of `keyType` (text form; an invalid one is HPCKV_ERR_BAD_CONFIG). */
export function keyInputEncoder(keyType: string): KeyInputEncoder {
  const type = parseKeyType(keyType);
  const text = formatKeyType(type);
  if (type === 'bytes') {
    return {
      keyType: text,
      key: (input) => toBytes(input, 'key'),
      bound: (input) => toBytes(input, 'key'),
      prefixRange: (prefix) => bytePrefixRange(asBuffer(toBytes(prefix, 'prefix'))),
      decode: (bytes) => asBuffer(bytes),
    };
  }
  const codec = keyCodec(type);
  return {
    keyType: text,
    key: (input) => codec.encode(input),
    bound: (input) => tupleBound(type, codec, input),
    prefixRange: (prefix) => typedPrefixRange(type, codec, prefix),
    decode: (bytes) => codec.decode(bytes),
  };
}

/** A tuple bound with fewer components than the type is a prefix: the block of its extensions. */
function tupleBound(type: KeyType, codec: KeyCodec, input: KeyValue): Uint8Array | PrefixBlock {
  if (isScalarKeyType(type) || !Array.isArray(input) || input.length >= type.tuple.length) return codec.encode(input);
  if (input.length === 0) {
    throw badKey(`a range bound of ${formatKeyType(type)} keys needs at least one component`,
      { reason: 'wrong arity', expected: formatKeyType(type), got: 'array of 0' });
  }
  const { gte, lt } = codec.prefixRange(input);
  return { first: gte, end: lt! }; // a tuple prefix's block always ends (tuple-encoding.ts)
}

function typedPrefixRange(type: KeyType, codec: KeyCodec, prefix: KeyValue): PrefixRange {
  if (type === 'string') return bytePrefixRange(codec.encode(prefix));
  if (isScalarKeyType(type)) throw new TypeError(`a prefix range needs tuple, string or bytes keys, not ${type}`);
  const { gte, lt } = codec.prefixRange(prefix as readonly KeyValue[]); // checked there: not an array is BAD_KEY
  // No components: every key (the empty key is never stored, so it is no bound).
  return gte.length === 0 ? {} : { gte, lt: lt! };
}

/**
 * Keys starting with the bytes `prefix`: from the prefix up to (not including) the next byte
 * string that does not start with it, which is the prefix with its last byte below 0xFF raised
 * by one and what follows dropped; a prefix of only 0xFF bytes runs to the end.
 */
export function bytePrefixRange(prefix: Buffer): PrefixRange {
  if (prefix.length === 0) return {};
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] !== 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i] = end[i]! + 1;
      return { gte: prefix, lt: end };
    }
  }
  return { gte: prefix };
}

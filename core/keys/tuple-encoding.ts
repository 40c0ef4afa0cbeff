/**
 * Tuple keys, FoundationDB-style: each component is a one-byte type tag then its body.
 * - fixed-width numbers: the body of fixed-width.ts, as-is (their width is known from the tag);
 * - strings (UTF-8) and bytes: escaped and 0x00-terminated (terminated-bytes.ts);
 * - nested tuples: their components the same way, then a 0x00 terminator.
 * A top-level tuple is just its components, unterminated, so the encoding P of a prefix (its first
 * k components) is a byte prefix of the encoding of every extension and sorts before them. The
 * converse fails (P = 02 61 00 for ("a") is also a byte prefix of 02 61 00 FF .. for ("a\0")), so
 * the range of the extensions is [P, P + FF): an extension continues P with a tag (< 0xFF) or not
 * at all, while a longer string or bytes component continues it with 0xFF.
 * Tags are never 0x00 (that ends a nested tuple, and must sort below any next component) nor 0xFF
 * (that marks an escaped 0x00). Since a store's key type is fixed, the tags at one position are
 * always equal and never decide an order; they make the bytes self-describing and let decode
 * reject bytes of another type.
 */

import { badKey } from './key-errors.js';
import { decodeFixed, encodeFixed, FIXED_WIDTH, isFixedWidth } from './fixed-width.js';
import { formatKeyType, isScalarKeyType, type KeyType, type KeyValue, type ScalarKeyType } from './key-type.js';
import { decodeTerminated, encodeTerminated, TERMINATOR } from './terminated-bytes.js';
import { decodeUtf8, encodeUtf8 } from './utf8.js';

const TAGS: Readonly<Record<ScalarKeyType | 'tuple', number>> = {
  bytes: 0x01,
  string: 0x02,
  tuple: 0x05,
  int32: 0x10,
  uint32: 0x11,
  int64: 0x12,
  uint64: 0x13,
  float32: 0x20,
  float64: 0x21,
};

/** Appends the encodings of checked `values` (a prefix of `types`, or all of it) to `parts`. */
export function encodeComponents(types: readonly KeyType[], values: readonly KeyValue[], parts: Buffer[]): void {
  values.forEach((value, i) => encodeComponent(types[i]!, value, parts));
}

function encodeComponent(type: KeyType, value: KeyValue, parts: Buffer[]): void {
  if (!isScalarKeyType(type)) {
    parts.push(Buffer.of(TAGS.tuple));
    encodeComponents(type.tuple, value as readonly KeyValue[], parts);
    parts.push(Buffer.of(TERMINATOR));
    return;
  }
  parts.push(Buffer.of(TAGS[type]));
  if (isFixedWidth(type)) parts.push(encodeFixed(type, value as number | bigint));
  else if (type === 'string') parts.push(encodeTerminated(encodeUtf8(value as string)));
  else parts.push(encodeTerminated(value as Uint8Array));
}

/** Decodes one component of each of `types` from `offset`; returns them and the offset after. */
export function decodeComponents(types: readonly KeyType[], bytes: Uint8Array, offset: number): { values: KeyValue[]; next: number } {
  const values: KeyValue[] = [];
  let at = offset;
  for (const type of types) {
    const { value, next } = decodeComponent(type, bytes, at);
    values.push(value);
    at = next;
  }
  return { values, next: at };
}

function decodeComponent(type: KeyType, bytes: Uint8Array, offset: number): { value: KeyValue; next: number } {
  const tag = isScalarKeyType(type) ? TAGS[type] : TAGS.tuple;
  if (bytes[offset] !== tag) {
    throw malformed(type, offset >= bytes.length ? 'bytes end before the component' : `tag 0x${bytes[offset]!.toString(16)} at offset ${offset}`);
  }
  const body = offset + 1;
  if (!isScalarKeyType(type)) {
    const { values, next } = decodeComponents(type.tuple, bytes, body);
    if (bytes[next] !== TERMINATOR) throw malformed(type, 'nested tuple not terminated');
    return { value: values, next: next + 1 };
  }
  if (isFixedWidth(type)) {
    const next = body + FIXED_WIDTH[type];
    if (next > bytes.length) throw malformed(type, 'bytes end inside the component');
    return { value: decodeFixed(type, bytes, body), next };
  }
  const { content, next } = decodeTerminated(bytes, body, type);
  return { value: type === 'string' ? decodeUtf8(content) : content, next };
}

function malformed(type: KeyType, got: string): Error {
  return badKey(`bytes are not a ${formatKeyType(type)} tuple component: ${got}`, {
    reason: 'malformed encoding', expected: formatKeyType(type), got,
  });
}

import { decodeTerminated, encodeTerminated } from './keys/terminated-bytes.js';
import { packList, unpackList } from './wire/packed-list.js';
import type { KeyRangeWire } from './protocol/messages.js';

/**
 * The byte layout of secondary indexes inside their index database. It lives in core (not client)
 * because both sides build these keys: the client for global index entries and lookups, the
 * server for local index entries, back-references and lookup verification.
 *
 * Everything of index `name` starts with its namespace N = UTF-8(name) 0x00 (index names never
 * hold 0x00), so several indexes share one database and one index is one contiguous byte range:
 *
 *   catalog record   N 0x00                         -> JSON definition (on rank 0)
 *   entry            N 0x01 T(s) 0x01 T(pk) 0x01 W  -> empty value
 *   back-reference   N 0x02 pk                      -> W F packed(s...)
 *
 * - s is the order-preserving encoding of a secondary key (core/keys), T(s) its escaped and
 *   0x00-terminated form (terminated-bytes.ts). T is order-preserving, and the 0x01 after it is
 *   never the 0xFF that continues a longer secondary key with an escaped 0x00, so all entries of one
 *   secondary key are one contiguous range, [N 01 T(s) 01, N 01 T(s) 02), and entries sort by
 *   secondary key first, then by primary key bytes (pk is terminated the same way, so a primary key
 *   sorts before its extensions whatever W follows it).
 * - pk is the primary key as stored, W the 8-byte write id of the indexed write that made the
 *   entry. W makes entries of two writes of the same record distinct keys, so removing the entries
 *   of an old write can never remove those of a newer one (see client/secondary-index.ts).
 * - the back-reference, on the primary key's server, says which write is current (W), a
 *   fingerprint F of the value that write stored (16 bytes), and its secondary keys. An entry is
 *   live only when its W is the back-reference's and the stored value still has fingerprint F.
 */

export const WRITE_ID_BYTES = 8;
export const FINGERPRINT_BYTES = 16;

const CATALOG = 0x00;
const ENTRY = 0x01;
const BACKREF = 0x02;
/** Between T(s) and the primary key; entries of one secondary key lie in [.. SEP, .. SEP + 1). */
const SEP = 0x01;

/** Index names: what can be a namespace and is easy to print (the database name rule). */
export const INDEX_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** N: the namespace prefix of index `name` (the caller has checked the name). */
export function indexNamespace(name: string): Buffer {
  return Buffer.concat([Buffer.from(name, 'utf8'), Buffer.of(0)]);
}

export function catalogKey(namespace: Uint8Array): Buffer {
  return Buffer.concat([namespace, Buffer.of(CATALOG)]);
}

export function backrefKey(namespace: Uint8Array, primaryKey: Uint8Array): Buffer {
  return Buffer.concat([namespace, Buffer.of(BACKREF), primaryKey]);
}

export function entryKey(namespace: Uint8Array, secondary: Uint8Array, primaryKey: Uint8Array, writeId: Uint8Array): Buffer {
  return Buffer.concat([namespace, Buffer.of(ENTRY), encodeTerminated(secondary), Buffer.of(SEP), encodeTerminated(primaryKey), Buffer.of(SEP), writeId]);
}

export interface DecodedEntry {
  secondary: Buffer;
  primaryKey: Buffer;
  writeId: Buffer;
}

/** Splits an entry key of the index with namespace `namespace`; null if it is not one. */
export function decodeEntryKey(namespace: Uint8Array, key: Uint8Array): DecodedEntry | null {
  const start = namespace.length + 1;
  if (key.length < start || key[start - 1] !== ENTRY || Buffer.compare(key.subarray(0, namespace.length), namespace) !== 0) return null;
  try {
    const secondary = decodeTerminated(key, start, 'secondary key');
    if (key[secondary.next] !== SEP) return null;
    const primary = decodeTerminated(key, secondary.next + 1, 'primary key');
    if (key[primary.next] !== SEP || key.length !== primary.next + 1 + WRITE_ID_BYTES || primary.content.length === 0) return null;
    return {
      secondary: Buffer.from(secondary.content),
      primaryKey: Buffer.from(primary.content),
      writeId: Buffer.from(key.subarray(primary.next + 1)),
    };
  } catch {
    return null;
  }
}

/** Bounds over encoded secondary keys (at most one lower and one upper). */
export interface SecondaryBounds {
  gt?: Uint8Array;
  gte?: Uint8Array;
  lt?: Uint8Array;
  lte?: Uint8Array;
}

/**
 * The entry-key range (gte, lt) holding the entries of every secondary key within `bounds`: for
 * T order-preserving, s >= a iff N 01 T(s) 01 .. >= N 01 T(a), and s > a iff >= N 01 T(a) 02.
 */
export function entryRange(namespace: Uint8Array, bounds: SecondaryBounds): { gte: Buffer; lt: Buffer } {
  const base = Buffer.concat([namespace, Buffer.of(ENTRY)]);
  const at = (s: Uint8Array, after: boolean): Buffer =>
    Buffer.concat([base, encodeTerminated(s), ...(after ? [Buffer.of(SEP + 1)] : [])]);
  const gte = bounds.gte !== undefined ? at(bounds.gte, false) : bounds.gt !== undefined ? at(bounds.gt, true) : base;
  const lt = bounds.lt !== undefined ? at(bounds.lt, false) : bounds.lte !== undefined ? at(bounds.lte, true)
    : Buffer.concat([namespace, Buffer.of(ENTRY + 1)]);
  return { gte, lt };
}

/** The entry range of exactly one secondary key. */
export function exactEntryRange(namespace: Uint8Array, secondary: Uint8Array): KeyRangeWire & { gte: Buffer; lt: Buffer } {
  return entryRange(namespace, { gte: secondary, lte: secondary });
}

/** A back-reference's value: the current write id, the fingerprint of its value, its secondary keys. */
export interface Backref {
  writeId: Buffer;
  fingerprint: Buffer;
  secondaryKeys: Buffer[];
}

export function encodeBackref(writeId: Uint8Array, fingerprint: Uint8Array, secondaryKeys: readonly Uint8Array[]): Buffer {
  return Buffer.concat([writeId, fingerprint, packList(secondaryKeys)]);
}

/** Null for bytes that are not a back-reference (never written by this code, or damaged). */
export function decodeBackref(bytes: Uint8Array, itemsMax: number): Backref | null {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const head = WRITE_ID_BYTES + FINGERPRINT_BYTES;
  if (view.length < head + 4) return null;
  try {
    const keys = unpackList(view.subarray(head), 'back-reference', itemsMax, null);
    if (keys.some((key) => key === null)) return null;
    return { writeId: view.subarray(0, WRITE_ID_BYTES), fingerprint: view.subarray(WRITE_ID_BYTES, head), secondaryKeys: keys as Buffer[] };
  } catch {
    return null;
  }
}

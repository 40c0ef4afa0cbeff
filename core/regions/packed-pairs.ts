import { ErrorCodes, HpckvError } from '../errors.js';
import { toBytes } from '../keys/key-input.js';

/**
 * The packed layout of key-value pairs in client memory, the same for a put's input and a get's
 * or scan's output, so a region filled by one can be handed to another. Little-endian:
 *
 *   u32 count n
 *   u32 keySize[n]
 *   u32 valueSize[n]        0xFFFFFFFF: no value (a key not stored, in get output)
 *   key bytes               keys one after another, in entry order
 *   value bytes             values one after another, in entry order (absent ones take none)
 *
 * Keys are the stored bytes (client.encodeKey for a typed store). Nothing is encoded per record:
 * a server finds entry i's bytes by prefix sums of the sizes. `packPairs` takes strings too, as
 * their UTF-8 bytes (as every call of the API does): the stored form of a key of a `bytes` or
 * `string` store; a key of any other type must be encoded first (client.encodeKey).
 *
 * The slots layout (get output into caller-sized slots): u32 valueSize[n], then n slots of
 * slotBytes each; slot i holds value i, cut to slotBytes when it is longer (valueSize tells).
 */
export const PACKED_ABSENT = 0xffff_ffff;

export function packedHeaderBytes(count: number): number {
  return 4 + 8 * count;
}

/** A pair as packPairs takes it: bytes, or a string packed as its UTF-8 bytes; no value (null, undefined) for an absent one. */
export type PairInput = readonly [Uint8Array | string, Uint8Array | string | null | undefined];

/** A pair's bytes; anything but bytes or a string is a TypeError naming the pair. */
function pairBytes([key, value]: PairInput, index: number): readonly [Uint8Array, Uint8Array | null] {
  return [itemBytes(key, index, 'key'), value === null || value === undefined ? null : itemBytes(value, index, 'value')];
}

// TypedArray.set would take a string or an array as numbers and pack zeros: refuse before any byte is written.
function itemBytes(item: unknown, index: number, what: string): Uint8Array {
  return toBytes(item, `pair ${index}: the ${what}`);
}

function checkPairs(pairs: readonly PairInput[]): void {
  if (!Array.isArray(pairs)) throw new TypeError('pairs must be an array of [key, value] pairs');
  pairs.forEach((pair, i) => { if (!Array.isArray(pair)) throw new TypeError(`pair ${i} must be a [key, value] array`); });
}

/** Bytes the packed layout of these pairs takes (a string counts its UTF-8 bytes). */
export function packedPairsBytes(pairs: readonly PairInput[]): number {
  checkPairs(pairs);
  let bytes = packedHeaderBytes(pairs.length);
  pairs.forEach((pair, i) => {
    const [key, value] = pairBytes(pair, i);
    bytes += key.length + (value === null ? 0 : value.length);
  });
  return bytes;
}

/** HPCKV_ERR_REGION_TOO_SMALL: results that need `needed` bytes, for a region of `has`. */
export function regionTooSmall(needed: number, has: number): HpckvError {
  return new HpckvError(ErrorCodes.REGION_TOO_SMALL, `the results need ${needed} bytes, the region has ${has}`,
    { details: { bytesNeeded: needed, regionBytes: has } });
}

/**
 * The packed layout up to its values: count, key sizes, value sizes (PACKED_ABSENT for none) and
 * the keys. Whoever knows every size writes this block; the values then go after it in entry
 * order. `valuesStart` is where the first value goes.
 */
export function packHeaderAndKeys(keys: readonly Uint8Array[], valueSizes: readonly number[]): { block: Buffer; valuesStart: number } {
  const n = keys.length;
  let keyBytes = 0;
  for (const key of keys) keyBytes += key.length;
  const block = Buffer.allocUnsafe(packedHeaderBytes(n) + keyBytes);
  block.writeUInt32LE(n, 0);
  let at = packedHeaderBytes(n);
  keys.forEach((key, i) => {
    block.writeUInt32LE(key.length, 4 + 4 * i);
    block.writeUInt32LE(valueSizes[i]!, 4 + 4 * n + 4 * i);
    block.set(key, at);
    at += key.length;
  });
  return { block, valuesStart: at };
}

/**
 * Writes pairs in the packed layout into `target` at `offset` (a new buffer when omitted); returns
 * the bytes written. Strings are packed as their UTF-8 bytes; a key or value of another type is a
 * TypeError, thrown before anything is written.
 */
export function packPairs(inputs: readonly PairInput[], target?: Uint8Array, offset = 0): Buffer {
  checkPairs(inputs);
  const pairs = inputs.map(pairBytes);
  const bytes = packedPairsBytes(pairs);
  const out = target === undefined ? Buffer.allocUnsafe(bytes) : Buffer.from(target.buffer, target.byteOffset, target.byteLength);
  if (offset + bytes > out.length) throw regionTooSmall(bytes, Math.max(0, out.length - offset));
  const n = pairs.length;
  out.writeUInt32LE(n, offset);
  let at = offset + packedHeaderBytes(n);
  pairs.forEach(([key], i) => {
    out.writeUInt32LE(key.length, offset + 4 + 4 * i);
    out.set(key, at);
    at += key.length;
  });
  pairs.forEach(([, value], i) => {
    out.writeUInt32LE(value == null ? PACKED_ABSENT : value.length, offset + 4 + 4 * n + 4 * i);
    if (value != null) { out.set(value, at); at += value.length; }
  });
  return out.subarray(offset, offset + bytes);
}

/** The sizes of a packed layout and where each entry's bytes are (offsets relative to the layout's start). */
export interface PackedLayout {
  count: number;
  keySizes: number[];
  /** PACKED_ABSENT for an entry without a value. */
  valueSizes: number[];
  keyOffsets: number[];
  valueOffsets: number[];
  /** Bytes the whole layout takes. */
  totalBytes: number;
}

function badLayout(what: string): never {
  throw new HpckvError(ErrorCodes.BAD_LAYOUT, `packed layout: ${what}`);
}

/** The count a layout starts with, checked against the bytes available. */
export function packedCount(first4: Uint8Array, availableBytes: number): number {
  if (first4.length < 4 || availableBytes < 4) badLayout(`needs at least 4 bytes, has ${availableBytes}`);
  const count = Buffer.from(first4.buffer, first4.byteOffset, 4).readUInt32LE(0);
  if (packedHeaderBytes(count) > availableBytes) badLayout(`count ${count} needs a ${packedHeaderBytes(count)}-byte header, the region has ${availableBytes} bytes`);
  return count;
}

/**
 * Reads the size tables (`sizes` = the 8n bytes after the count) and computes every entry's
 * offsets; checks that the layout fits `availableBytes` (HPCKV_ERR_BAD_LAYOUT otherwise).
 */
export function packedLayout(count: number, sizes: Uint8Array, availableBytes: number): PackedLayout {
  if (sizes.length < 8 * count) badLayout(`size tables of ${count} entries need ${8 * count} bytes, got ${sizes.length}`);
  const view = Buffer.from(sizes.buffer, sizes.byteOffset, sizes.byteLength);
  const keySizes = new Array<number>(count);
  const valueSizes = new Array<number>(count);
  const keyOffsets = new Array<number>(count);
  const valueOffsets = new Array<number>(count);
  let at = packedHeaderBytes(count);
  for (let i = 0; i < count; i++) {
    keySizes[i] = view.readUInt32LE(4 * i);
    keyOffsets[i] = at;
    at += keySizes[i]!;
  }
  for (let i = 0; i < count; i++) {
    const size = view.readUInt32LE(4 * count + 4 * i);
    valueSizes[i] = size;
    valueOffsets[i] = at;
    if (size !== PACKED_ABSENT) at += size;
  }
  if (at > availableBytes) badLayout(`sizes add up to ${at} bytes, the region has ${availableBytes}`);
  return { count, keySizes, valueSizes, keyOffsets, valueOffsets, totalBytes: at };
}

/** The pairs of a packed layout, as views of `bytes` (undefined for an absent value). */
export function unpackPairs(bytes: Uint8Array): Array<[Buffer, Buffer | undefined]> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = packedCount(buffer, buffer.length);
  const layout = packedLayout(count, buffer.subarray(4, 4 + 8 * count), buffer.length);
  const out: Array<[Buffer, Buffer | undefined]> = [];
  for (let i = 0; i < count; i++) {
    const key = buffer.subarray(layout.keyOffsets[i]!, layout.keyOffsets[i]! + layout.keySizes[i]!);
    const size = layout.valueSizes[i]!;
    out.push([key, size === PACKED_ABSENT ? undefined : buffer.subarray(layout.valueOffsets[i]!, layout.valueOffsets[i]! + size)]);
  }
  return out;
}

/** Bytes the slots layout of `count` values takes. */
export function slotsLayoutBytes(count: number, slotBytes: number): number {
  return 4 * count + count * slotBytes;
}

export interface SlotValue {
  /** The value (its first slotBytes bytes when truncated), undefined when the key is not stored. */
  value: Buffer | undefined;
  /** The stored value's full size in bytes (undefined when not stored). */
  size: number | undefined;
  truncated: boolean;
}

/** The values of a slots layout, as views of `bytes`. */
export function unpackSlots(bytes: Uint8Array, count: number, slotBytes: number): SlotValue[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (slotsLayoutBytes(count, slotBytes) > buffer.length) badLayout(`${count} slots of ${slotBytes} bytes do not fit ${buffer.length} bytes`);
  const out: SlotValue[] = [];
  for (let i = 0; i < count; i++) {
    const size = buffer.readUInt32LE(4 * i);
    if (size === PACKED_ABSENT) { out.push({ value: undefined, size: undefined, truncated: false }); continue; }
    const start = 4 * count + i * slotBytes;
    out.push({ value: buffer.subarray(start, start + Math.min(size, slotBytes)), size, truncated: size > slotBytes });
  }
  return out;
}

import { ErrorCodes, HpckvError } from '../errors.js';
import { asBuffer } from './as-buffer.js';

/**
 * A list of byte strings in one buffer, for bulk bodies: msgpack costs 3-4x a plain copy per
 * element, this costs one copy. Layout (little-endian):
 *   u32 count | u32 size[count] | bytes of item 0 | bytes of item 1 | ...
 * A size of 0xFFFFFFFF marks an absent item (a key not stored, in a getMany reply).
 * Unpacked items are views of the buffer, not copies.
 */
const ABSENT = 0xffff_ffff;

/**
 * The same layout as packList, but as the size table plus the items themselves, for writing
 * with writev: a frame carries it as a tail (core/wire/tail-frames.ts) and the bytes of large
 * items go from their own buffers to the socket without being copied into one buffer first;
 * runs of small items are copied into one block each (cheaper than a chunk per item).
 */
export class PackedListChunks {
  readonly chunks: Buffer[];
  readonly byteLength: number;

  constructor(items: ReadonlyArray<Uint8Array | null>) {
    const table = Buffer.allocUnsafe(4 + 4 * items.length);
    table.writeUInt32LE(items.length, 0);
    const chunks: Buffer[] = [table];
    let bytes = table.length;
    // Items shorter than COPY_BELOW_BYTES are copied into one block per run; longer ones are
    // written from their own buffers.
    let runStart = 0;
    let runBytes = 0;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (item === null) {
        table.writeUInt32LE(ABSENT, 4 + 4 * i);
        continue;
      }
      table.writeUInt32LE(item.length, 4 + 4 * i);
      bytes += item.length;
      if (item.length < COPY_BELOW_BYTES) {
        runBytes += item.length;
        continue;
      }
      if (runBytes > 0) chunks.push(copyRun(items, runStart, i, runBytes));
      chunks.push(asBuffer(item));
      runStart = i + 1;
      runBytes = 0;
    }
    if (runBytes > 0) chunks.push(copyRun(items, runStart, items.length, runBytes));
    this.chunks = chunks;
    this.byteLength = bytes;
  }
}

/**
 * Below this size an item is cheaper to copy than to write as a chunk of its own: each chunk of
 * a writev costs Node about 1-2 µs, so 1000 × 64 B went out in 2.7-6.5 ms as chunks and in
 * 0.5-1.2 ms copied into one buffer; at 4 KiB the two were even.
 */
export const COPY_BELOW_BYTES = 2048;

/** The items [from, to) that are shorter than COPY_BELOW_BYTES (all of them: a run holds no longer one), in one buffer. */
function copyRun(items: ReadonlyArray<Uint8Array | null>, from: number, to: number, bytes: number): Buffer {
  const block = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (let i = from; i < to; i++) {
    const item = items[i];
    if (item === null || item === undefined) continue;
    block.set(item, at);
    at += item.length;
  }
  return block;
}

export function packList(items: ReadonlyArray<Uint8Array | null>): Buffer {
  let bytes = 4 + 4 * items.length;
  for (const item of items) if (item !== null) bytes += item.length;
  const out = Buffer.allocUnsafe(bytes);
  out.writeUInt32LE(items.length, 0);
  let sizeAt = 4;
  let dataAt = 4 + 4 * items.length;
  for (const item of items) {
    if (item === null) {
      out.writeUInt32LE(ABSENT, sizeAt);
    } else {
      out.writeUInt32LE(item.length, sizeAt);
      out.set(item, dataAt);
      dataAt += item.length;
    }
    sizeAt += 4;
  }
  return out;
}

function malformed(what: string, why: string): HpckvError {
  return new HpckvError(ErrorCodes.BAD_REQUEST, `packed list "${what}" is malformed: ${why}`, { details: { field: what } });
}

/**
 * Reads a packed list; any inconsistency (short buffer, sizes past the end, trailing bytes) is
 * HPCKV_ERR_BAD_REQUEST. More than `itemsMax` items is checked before anything is allocated:
 * HPCKV_ERR_BATCH_TOO_LARGE when `itemsMax` is the batchEntriesMax limit (a request's list), and
 * HPCKV_ERR_BAD_REQUEST when it is only what the reader expects (`itemsLimit` null: a reply
 * longer than its request, a stored list longer than written), which no limit names.
 */
export function unpackList(packed: unknown, what: string, itemsMax: number, itemsLimit: 'batchEntriesMax' | null = 'batchEntriesMax'): Array<Buffer | null> {
  if (!(packed instanceof Uint8Array)) throw malformed(what, 'not bytes');
  const data = asBuffer(packed);
  if (data.length < 4) throw malformed(what, 'shorter than its count');
  const count = data.readUInt32LE(0);
  if (count > itemsMax) {
    if (itemsLimit === null) throw malformed(what, `${count} items where at most ${itemsMax} are expected`);
    throw new HpckvError(ErrorCodes.BATCH_TOO_LARGE, `packed list "${what}" has ${count} items, batchEntriesMax is ${itemsMax}`,
      { details: { limit: 'batchEntriesMax', field: what, entries: count, max: itemsMax } });
  }
  if (data.length < 4 + 4 * count) throw malformed(what, 'shorter than its size table');
  const items = new Array<Buffer | null>(count);
  let dataAt = 4 + 4 * count;
  for (let i = 0; i < count; i++) {
    const size = data.readUInt32LE(4 + 4 * i);
    if (size === ABSENT) {
      items[i] = null;
      continue;
    }
    if (dataAt + size > data.length) throw malformed(what, `item ${i} runs past the end`);
    items[i] = data.subarray(dataAt, dataAt + size);
    dataAt += size;
  }
  if (dataAt !== data.length) throw malformed(what, `${data.length - dataAt} trailing bytes`);
  return items;
}

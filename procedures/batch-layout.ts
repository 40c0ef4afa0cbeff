import { ErrorCodes, HpckvError } from '../core/errors.js';

/** One batch of stored entries handed to a procedure (about `limits.procedureBatchEntriesMax`). */
export interface PackedEntries {
  keys: Uint8Array[];
  values: Uint8Array[];
}

/** One output of a map: the batch entry's index, its new key (null: keep the entry's) and value. */
export interface MapOutput {
  index: number;
  key: Uint8Array | null;
  value: Uint8Array;
}

/**
 * Packs a batch into one ArrayBuffer (it crosses into the isolate in one copy): u32 count, then a
 * u32 key length and u32 value length per entry, then the keys and values back to back. Native
 * byte order: the isolate runs on the same machine. The runtime splits it into Uint8Array views.
 */
export function packEntries(batch: PackedEntries): ArrayBuffer {
  const { keys, values } = batch;
  if (!Array.isArray(keys) || !Array.isArray(values) || keys.length !== values.length) {
    throw new HpckvError(ErrorCodes.BAD_REQUEST, 'a batch has as many keys as values');
  }
  let bytes = 0;
  for (let i = 0; i < keys.length; i++) bytes += keys[i]!.length + values[i]!.length;
  const head = 4 + 8 * keys.length;
  const buffer = new ArrayBuffer(head + bytes);
  const lengths = new Uint32Array(buffer, 0, 1 + 2 * keys.length);
  const out = new Uint8Array(buffer);
  lengths[0] = keys.length;
  let at = head;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const value = values[i]!;
    lengths[1 + 2 * i] = key.length;
    lengths[2 + 2 * i] = value.length;
    out.set(key, at);
    at += key.length;
    out.set(value, at);
    at += value.length;
  }
  return buffer;
}

/** Reads the map outputs the runtime packed (sandbox-runtime.ts `packOutputs`). */
export function unpackMapOutputs(buffer: ArrayBuffer): MapOutput[] {
  const count = new Uint32Array(buffer, 0, 1)[0]!;
  const header = new Uint32Array(buffer, 0, 1 + 3 * count);
  const outputs: MapOutput[] = [];
  let at = 4 + 12 * count;
  for (let j = 0; j < count; j++) {
    const keyLength = header[2 + 3 * j]!;
    const valueLength = header[3 + 3 * j]!;
    let key: Uint8Array | null = null;
    if (keyLength !== 0xffffffff) {
      key = new Uint8Array(buffer, at, keyLength);
      at += keyLength;
    }
    outputs.push({ index: header[1 + 3 * j]!, key, value: new Uint8Array(buffer, at, valueLength) });
    at += valueLength;
  }
  return outputs;
}

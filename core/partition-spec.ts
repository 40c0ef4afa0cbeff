/**
 * The rules a partition spec's parameters must follow, in core because the group file checks
 * them when it is read (a bad file fails there, with the file's name) and the partitioners in
 * partition/ build on the same rules.
 */

/** Strict base64 (Node's decoder silently skips bad characters): the text must round-trip. */
export function decodeBase64(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) throw new TypeError(`not canonical base64: ${JSON.stringify(text.slice(0, 40))}`);
  return new Uint8Array(bytes);
}

/**
 * Checks range boundaries (non-empty, strictly increasing by byte order, one fewer than the
 * servers) and returns private copies of them.
 */
export function checkRangeBoundaries(boundaries: readonly unknown[], serverCount: number): Uint8Array[] {
  if (boundaries.length !== serverCount - 1) {
    throw new RangeError(`RangeTable: ${serverCount} servers need ${serverCount - 1} boundaries, got ${boundaries.length}`);
  }
  const copies: Uint8Array[] = [];
  boundaries.forEach((boundary: unknown, i) => {
    if (!(boundary instanceof Uint8Array)) throw new TypeError(`RangeTable: boundary ${i} is not a Uint8Array`);
    // An empty boundary would leave server 0 with nothing but the empty key: surely a mistake.
    if (boundary.length === 0) throw new RangeError(`RangeTable: boundary ${i} is empty`);
    if (i > 0 && Buffer.compare(copies[i - 1]!, boundary) >= 0) {
      throw new RangeError(`RangeTable: boundaries must be strictly increasing; boundary ${i} is not greater than boundary ${i - 1}`);
    }
    copies.push(Uint8Array.from(boundary));
  });
  return copies;
}

/**
 * A slice size for keys of `keyType`: a positive finite number for float keys, a positive
 * integer (number, bigint, or decimal string above 2^53) for every other type.
 */
export function parseSliceSize(keyType: string, size: number | bigint | string): bigint | number {
  if (keyType === 'float32' || keyType === 'float64') {
    if (typeof size !== 'number' || !Number.isFinite(size) || size <= 0) {
      throw new RangeError(`sliceSize for ${keyType} keys must be a positive finite number, got ${String(size)}`);
    }
    return size;
  }
  let value: bigint;
  if (typeof size === 'bigint') value = size;
  else if (typeof size === 'number' && Number.isSafeInteger(size)) value = BigInt(size);
  else if (typeof size === 'string' && /^[0-9]{1,40}$/.test(size)) value = BigInt(size);
  else throw new RangeError(`sliceSize for ${keyType} keys must be a positive integer (a decimal string above 2^53), got ${JSON.stringify(String(size))}`);
  if (value < 1n) throw new RangeError(`sliceSize for ${keyType} keys must be >= 1, got ${value}`);
  return value;
}

/** Key types whose slices are taken from their first 8 bytes: either reads the other's keys the same way. */
const BYTE_SLICED = new Set(['string', 'bytes']);

/**
 * Why a slices spec cannot route keys of the store's key type, or undefined when it can: the
 * spec's keyType must be the store's (string and bytes are interchangeable, both slice on their
 * first 8 bytes). Without this an int32 store with an int64 slices spec would start and then
 * fail, or misroute, every key.
 */
export function slicesKeyTypeMismatch(sliceKeyType: string, storeKeyType: string): string | undefined {
  if (sliceKeyType === storeKeyType || (BYTE_SLICED.has(sliceKeyType) && BYTE_SLICED.has(storeKeyType))) return undefined;
  return `partition.keyType ${sliceKeyType} does not match the store's key type ${storeKeyType}`;
}

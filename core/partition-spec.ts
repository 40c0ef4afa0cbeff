import { ErrorCodes, HpckvError } from './errors.js';
import { formatKeyType, parseKeyType, SCALAR_KEY_TYPES } from './keys/key-type.js';

/**
 * Partition specs and the rules their parameters must follow, in core because the group file
 * checks them when it is read (a bad file fails there, with the file's name), the launcher and
 * every server rank check them before they start (a bad spec is HPCKV_ERR_BAD_CONFIG, not a
 * partitioner's TypeError from deep inside a server), and the partitioners in partition/ build on
 * the same rules.
 */

export interface HashPartitionSpec {
  scheme: 'hash';
  /** Virtual nodes per server on the ring. */
  virtualNodes: number;
  /** Seed of the ring's hash; the same (servers, virtualNodes, seed) always gives the same ring. */
  seed: number;
}

/**
 * Contiguous key ranges (partition/range-table.ts): server 0 owns keys < boundaries[0], server i
 * owns boundaries[i-1] <= key < boundaries[i]. Boundaries are base64 of encoded keys (JSON has no
 * bytes), strictly increasing in byte order, one fewer than the servers; `rangePartition`
 * (partition/range-partition.ts) builds them from typed keys.
 */
export interface RangePartitionSpec {
  scheme: 'range';
  boundaries: string[];
  /** The range table's own epoch: bumped whenever the boundaries move. */
  epoch: number;
}

/** MDHIM slices (partition/mdhim-slices.ts): slice = floor(key / sliceSize), owner = slice mod N. */
export interface SlicePartitionSpec {
  scheme: 'slices';
  /** A number, or a decimal string for integer sizes above 2^53 (e.g. for uint64 or string keys). */
  sliceSize: number | string;
  /** How keys are encoded: int32, uint32, int64, uint64, float32, float64, string or bytes. */
  keyType: string;
}

export type PartitionSpec = HashPartitionSpec | RangePartitionSpec | SlicePartitionSpec;

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

/** A JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks the partition spec of a group of `serverCount` servers holding keys of `keyType` (text
 * form) and returns a clean copy. `fail` throws the caller's error for a fault it names (a group
 * file's HPCKV_ERR_GROUP_FILE with the file's name, or HPCKV_ERR_BAD_CONFIG).
 */
export function parsePartitionSpec(value: unknown, serverCount: number, keyType: string, fail: (what: string) => never): PartitionSpec {
  if (!isRecord(value) || !['hash', 'range', 'slices'].includes(value['scheme'] as string)) {
    return fail('partition.scheme must be "hash", "range" or "slices"');
  }
  switch (value['scheme']) {
    case 'hash': return parseHash(value, fail);
    case 'range': return parseRange(value, serverCount, fail);
    default: return parseSlices(value, keyType, fail);
  }
}

function parseHash(spec: Record<string, unknown>, fail: (what: string) => never): HashPartitionSpec {
  const { virtualNodes, seed } = spec;
  if (typeof virtualNodes !== 'number' || !Number.isInteger(virtualNodes) || virtualNodes < 1 || virtualNodes > 4096) {
    fail('partition.virtualNodes must be an integer in 1..4096');
  }
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) fail('partition.seed must be a 32-bit unsigned integer');
  return { scheme: 'hash', virtualNodes, seed };
}

function parseRange(spec: Record<string, unknown>, serverCount: number, fail: (what: string) => never): RangePartitionSpec {
  const { boundaries, epoch } = spec;
  if (!Array.isArray(boundaries) || !boundaries.every((b) => typeof b === 'string')) {
    fail('partition.boundaries must be an array of base64 strings of encoded keys (rangePartition builds them from keys)');
  }
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) fail('partition.epoch must be a non-negative integer');
  if (boundaries.length !== serverCount - 1) {
    fail(`partition.boundaries must have ${serverCount - 1} entries (one fewer than the ${serverCount} servers), got ${boundaries.length}`);
  }
  const copy: RangePartitionSpec = { scheme: 'range', boundaries: [...boundaries] as string[], epoch };
  // The table's own checks (canonical base64, non-empty, strictly increasing) are the rules.
  checkWith('partition.boundaries', fail, () => checkRangeBoundaries(copy.boundaries.map((b) => decodeBase64(b)), serverCount));
  return copy;
}

function parseSlices(spec: Record<string, unknown>, storeKeyType: string, fail: (what: string) => never): SlicePartitionSpec {
  const { keyType, sliceSize } = spec;
  if (typeof keyType !== 'string' || !(SCALAR_KEY_TYPES as readonly string[]).includes(keyType)) {
    fail(`partition.keyType must be one of ${SCALAR_KEY_TYPES.join(', ')}, got ${String(keyType)}`);
  }
  if (typeof sliceSize !== 'number' && typeof sliceSize !== 'string') fail('partition.sliceSize must be a number or a decimal string');
  checkWith('partition.sliceSize', fail, () => parseSliceSize(keyType, sliceSize));
  const mismatch = slicesKeyTypeMismatch(keyType, storeKeyType);
  if (mismatch !== undefined) fail(mismatch);
  return { scheme: 'slices', sliceSize, keyType };
}

/** Runs a rule that throws TypeError or RangeError, and reports its fault through `fail`. */
function checkWith(field: string, fail: (what: string) => never, check: () => unknown): void {
  try {
    check();
  } catch (error) {
    if (!(error instanceof TypeError || error instanceof RangeError)) throw error;
    fail(`${field}: ${error.message}`);
  }
}

/**
 * A partition spec given in code (a launcher's options, a facade's), checked before anything
 * starts: HPCKV_ERR_BAD_CONFIG naming the fault, the way a group file read back would name it.
 * `keyType` (text form, default `bytes`) is the store's, which a slices spec must match.
 */
export function checkPartitionSpec(spec: unknown, serverCount: number, keyType = 'bytes'): PartitionSpec {
  if (!Number.isSafeInteger(serverCount) || serverCount < 1) throw new RangeError(`serverCount must be an integer >= 1, got ${String(serverCount)}`);
  const storeKeyType = formatKeyType(parseKeyType(keyType));
  return parsePartitionSpec(spec, serverCount, storeKeyType, (what) => {
    throw new HpckvError(ErrorCodes.BAD_CONFIG, `bad partition spec: ${what}`, { details: { field: 'partition' } });
  });
}

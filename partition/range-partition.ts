import { ErrorCodes, HpckvError, isHpckvError } from '../core/errors.js';
import { keyInputEncoder } from '../core/keys/key-input.js';
import type { KeyValue } from '../core/keys/key-type.js';
import { checkPartitionSpec, type RangePartitionSpec } from '../core/partition-spec.js';
import { RangeTable } from './range-table.js';

/**
 * Range partition specs from typed keys. A spec's boundaries are base64 of encoded keys (the
 * group file is JSON), which nobody should write by hand: these take keys as the client takes
 * them (strings, numbers, bigints, bytes, tuples; core/keys/key-input.ts) and give the spec to
 * pass as `LaunchOptions.partition` or `hpckv launch --partition`.
 */

export interface RangePartitionOptions {
  /** The store's key type, text form as in LaunchOptions.keyType (default `bytes`). */
  keyType?: string;
  /**
   * Where servers 1..N-1 begin, in increasing key order (N-1 of them for N servers). Keys of the
   * key type; with a tuple type also a prefix (its leading components): its server then begins
   * at the first key starting with it, so `[['mu']]` puts every key of run "mu" on server 1.
   */
  splitPoints: readonly KeyValue[];
  /** The table's epoch (default 0). */
  epoch?: number;
}

export interface RangeSampleOptions {
  /** The store's key type, text form (default `bytes`). */
  keyType?: string;
  /** Keys as the store will hold them, in any order, repeats allowed (complete keys). */
  sample: readonly KeyValue[];
  /** How many servers share the key space. */
  servers: number;
  /** The table's epoch (default 0). */
  epoch?: number;
}

/**
 * The range spec whose servers begin at `splitPoints`. A split point not of the key type is
 * HPCKV_ERR_BAD_KEY naming it (`details.splitPoint`); split points not strictly increasing in key
 * order are HPCKV_ERR_BAD_CONFIG.
 */
export function rangePartition(options: RangePartitionOptions): RangePartitionSpec {
  const { splitPoints, epoch = 0 } = options;
  if (!Array.isArray(splitPoints)) throw new TypeError('rangePartition: splitPoints must be an array of keys');
  const keys = keyInputEncoder(options.keyType ?? 'bytes');
  const encoded = splitPoints.map((point, i) => withIndex(i, () => {
    const bound = keys.bound(point);
    return bound instanceof Uint8Array ? bound : bound.first;
  }));
  encoded.forEach((key, i) => {
    if (i > 0 && Buffer.compare(encoded[i - 1]!, key) >= 0) {
      throw new HpckvError(ErrorCodes.BAD_CONFIG, `rangePartition: split points must increase in key order; split point ${i} is not after split point ${i - 1}`,
        { details: { splitPoint: i } });
    }
  });
  return spec(encoded, epoch);
}

/**
 * The range spec that gives each of `servers` servers about the same number of the sample's
 * distinct keys (RangeTable.fromSample). A sample key not of the key type is HPCKV_ERR_BAD_KEY;
 * a sample of fewer distinct keys than servers is HPCKV_ERR_BAD_CONFIG.
 */
export function rangePartitionFromSample(options: RangeSampleOptions): RangePartitionSpec {
  const { sample, servers, epoch = 0 } = options;
  if (!Array.isArray(sample)) throw new TypeError('rangePartitionFromSample: sample must be an array of keys');
  if (!Number.isSafeInteger(servers) || servers < 1) throw new RangeError(`rangePartitionFromSample: servers must be an integer >= 1, got ${String(servers)}`);
  const keys = keyInputEncoder(options.keyType ?? 'bytes');
  const encoded = sample.map((key) => keys.key(key));
  let table: RangeTable;
  try {
    table = RangeTable.fromSample(encoded, servers, epoch);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new HpckvError(ErrorCodes.BAD_CONFIG, `rangePartitionFromSample: ${error.message}`, { cause: error });
  }
  return spec(table.boundaries, epoch);
}

/** The spec of these boundaries, checked as a launch will check it (an empty boundary, a bad epoch: BAD_CONFIG). */
function spec(boundaries: readonly Uint8Array[], epoch: number): RangePartitionSpec {
  const built = { scheme: 'range' as const, boundaries: boundaries.map((b) => Buffer.from(b).toString('base64')), epoch };
  return checkPartitionSpec(built, boundaries.length + 1) as RangePartitionSpec;
}

/** Runs the encoding of split point `index`; its BAD_KEY says which split point it was. */
function withIndex<T>(index: number, encode: () => T): T {
  try {
    return encode();
  } catch (error) {
    if (!isHpckvError(error, ErrorCodes.BAD_KEY)) throw error;
    throw new HpckvError(ErrorCodes.BAD_KEY, `split point ${index}: ${error.message}`, { cause: error, details: { ...error.details, splitPoint: index } });
  }
}

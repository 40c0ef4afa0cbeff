import { ErrorCodes, HpckvError } from '../../core/errors.js';
import type { Limits } from '../../core/limits.js';
import { checkEntries, checkKey, checkValue, limitExceeded } from '../../core/protocol/field-checks.js';
import { PACKED_ABSENT, packedCount, packedHeaderBytes, packedLayout } from '../../core/regions/packed-pairs.js';
import type { Partitioner } from '../../partition/partitioner.js';
import type { Database } from '../database.js';
import type { ValidRegionPut } from '../../core/protocol/validate/region-requests.js';
import { RegionReader, coalesceSpans } from './region-reader.js';
import type { RegionTransfers } from './region-transfers.js';

export interface RegionPutContext {
  limits: Limits;
  /** The group's partitioning: a put without indices stores the keys it gives this server. */
  partitioner: Partitioner;
  rank: number;
  transfers: RegionTransfers;
}

/**
 * The work of an accepted region put: pulls the packed pairs this server stores from the region
 * (or takes the bytes the request carried), checks every pair, and writes them in one batch.
 * Returns how many pairs it stored; throws (writing nothing) on a bad layout, a pair over the
 * limits, or a failed transfer.
 */
export async function putFromRegion(context: RegionPutContext, r: ValidRegionPut, database: Database): Promise<number> {
  const { limits, partitioner, rank, transfers } = context;
  const region = r.region;
  // The first pull takes as much as one message carries: for a region of up to
  // regionChunkBytesMax that is the whole put, header and pairs, in one round trip.
  const reader = new RegionReader((offset, length) => transfers.pull(region, offset, length), region.length, transfers.chunkBytes);
  if (r.data !== null) {
    // The bytes came with the request: nothing to pull (the hold hook still holds the put here).
    await transfers.gate();
    reader.provide(0, r.data);
  }
  await reader.prefetch(0, Math.min(region.length, transfers.chunkBytes));
  const count = packedCount(reader.get(0, Math.min(4, region.length)), region.length);
  const headerBytes = packedHeaderBytes(count);
  await reader.prefetch(0, headerBytes);
  const layout = packedLayout(count, reader.get(4, 8 * count), region.length);
  // Every pair of the layout is checked, not only this server's: a layout with an absent value
  // is refused by every server alike, so no server stores its share of a malformed region.
  const absent = layout.valueSizes.indexOf(PACKED_ABSENT);
  if (absent >= 0) throw new HpckvError(ErrorCodes.BAD_LAYOUT, `pair ${absent} has no value (0xFFFFFFFF): a put needs every value`);
  let mine: number[];
  if (r.indices !== null) {
    for (const index of r.indices) {
      if (index >= count) throw new HpckvError(ErrorCodes.BAD_REQUEST, `index ${index} is beyond the region's ${count} pairs`);
    }
    mine = r.indices;
  } else if (partitioner.serverCount === 1) {
    mine = Array.from({ length: count }, (_, i) => i);
  } else {
    // Every key is read to find this server's; a client that owns the region routes itself and sends indices.
    const valuesStart = count === 0 ? headerBytes : layout.valueOffsets[0]!;
    await reader.prefetch(headerBytes, valuesStart - headerBytes);
    mine = [];
    for (let i = 0; i < count; i++) {
      if (partitioner.serverFor(reader.get(layout.keyOffsets[i]!, layout.keySizes[i]!)) === rank) mine.push(i);
    }
  }
  checkEntries(mine.length, limits, 'the pairs for this server');
  let total = 0;
  for (const i of mine) total += layout.keySizes[i]! + layout.valueSizes[i]!;
  if (total > limits.regionOpBytesMax) {
    throw limitExceeded(ErrorCodes.BATCH_TOO_LARGE, 'regionOpBytesMax', 'the pairs for this server', total, limits.regionOpBytesMax, 'bytes');
  }
  if (mine.length === count) {
    await reader.prefetch(0, layout.totalBytes);
  } else {
    // Only this server's bytes: keys and values of runs of consecutive entries, a span per run.
    const spans: Array<[number, number]> = [];
    for (const offsets of [layout.keyOffsets, layout.valueOffsets]) {
      const sizes = offsets === layout.keyOffsets ? layout.keySizes : layout.valueSizes;
      for (let j = 0; j < mine.length;) {
        let k = j + 1;
        while (k < mine.length && mine[k] === mine[k - 1]! + 1) k++;
        const start = offsets[mine[j]!]!;
        const end = offsets[mine[k - 1]!]! + sizes[mine[k - 1]!]!;
        spans.push([start, end - start]);
        j = k;
      }
    }
    await reader.prefetchSpans(coalesceSpans(spans, transfers.chunkBytes));
  }
  // The common case, a server taking a whole region it holds in one buffer: views straight off it.
  const whole = mine.length === count ? reader.contiguous(0, layout.totalBytes) : undefined;
  const keys = new Array<Buffer>(mine.length);
  const values = new Array<Buffer>(mine.length);
  for (let j = 0; j < mine.length; j++) {
    const i = mine[j]!;
    const ko = layout.keyOffsets[i]!;
    const vo = layout.valueOffsets[i]!;
    keys[j] = whole === undefined ? reader.get(ko, layout.keySizes[i]!) : whole.subarray(ko, ko + layout.keySizes[i]!);
    values[j] = whole === undefined ? reader.get(vo, layout.valueSizes[i]!) : whole.subarray(vo, vo + layout.valueSizes[i]!);
    checkKey(keys[j]!, limits, { field: 'key', index: i });
    checkValue(values[j]!, limits, { field: 'value', index: i });
  }
  await database.write(keys, values, r.sync);
  return mine.length;
}

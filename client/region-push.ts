/**
 * The push step of a get or scan into a region. The servers have staged their part (values, or a
 * range's pairs) and said the sizes; from those replies the client lays out the region's header
 * (and the keys) as one block, written through one server, and tells each server where to push
 * each of its values. Apart from RegionOps, which checks the region and stages the parts.
 */
import { ErrorCodes, HpckvError } from '../core/errors.js';
import type { RegionStageReply } from '../core/protocol/region-messages.js';
import { PACKED_ABSENT, packHeaderAndKeys, regionTooSmall } from '../core/regions/packed-pairs.js';
import type { RegionDescriptor } from '../core/regions/region-descriptor.js';
import { unpackList } from '../core/wire/packed-list.js';
import { allParts } from './core/fan-out.js';
import { OrderedMerge, type MergeCursor } from './core/ordered-merge.js';
import type { RegionCallOptions, RegionHost, RegionScanResult } from './region-types.js';

/** One server's staged part of an operation: its rank and its regionStage reply. */
export interface StagedPart {
  rank: number;
  reply: RegionStageReply;
}

/** Lets staged parts go unwritten (after a failure, or when nothing of them fits); failures to release are ignored. */
export async function releaseStaged(host: RegionHost, staged: readonly StagedPart[], options: RegionCallOptions): Promise<void> {
  await Promise.all(staged.map(({ rank, reply }) => host.call(rank, 'regionRelease', { op: reply.op }, options).catch(() => undefined)));
}

/**
 * A get's values pushed into the region: packed (header and keys by the client, each value after
 * the previous one; a region too small for them all is HPCKV_ERR_REGION_TOO_SMALL) or into slots
 * of `slotBytes` after the u32 sizes. `byServer[rank]` lists the indices into `keys` each staged
 * server holds. Resolves with the number of keys found.
 */
export async function pushGet(host: RegionHost, keys: readonly Uint8Array[], byServer: number[][], staged: readonly StagedPart[],
  region: RegionDescriptor, layout: 'packed' | 'slots', slotBytes: number, options: RegionCallOptions): Promise<number> {
  const n = keys.length;
  const sizes = new Array<number>(n);
  for (const { rank, reply } of staged) {
    const indices = byServer[rank]!;
    readU32s(reply.valueSizes, indices.length, `regionStage reply of server ${rank}`).forEach((size, j) => { sizes[indices[j]!] = size; });
  }
  // The client writes the header (and, packed, the keys) as one block through one server;
  // each server then pushes only its values.
  const valueOffset = new Array<number>(n);
  let block: Buffer;
  if (layout === 'packed') {
    const packed = packHeaderAndKeys(keys, sizes);
    let at = packed.valuesStart;
    for (let i = 0; i < n; i++) { valueOffset[i] = at; if (sizes[i] !== PACKED_ABSENT) at += sizes[i]!; }
    if (at > region.length) {
      await releaseStaged(host, staged, options);
      throw regionTooSmall(at, region.length);
    }
    block = packed.block;
  } else {
    block = Buffer.allocUnsafe(4 * n);
    for (let i = 0; i < n; i++) { block.writeUInt32LE(sizes[i]!, 4 * i); valueOffset[i] = 4 * n + i * slotBytes; }
  }
  const pushes = staged.map(({ rank, reply }, s) => {
    const placements: number[] = [];
    byServer[rank]!.forEach((i, j) => {
      if (sizes[i] !== PACKED_ABSENT) placements.push(j, valueOffset[i]!, layout === 'slots' ? slotBytes : sizes[i]!);
    });
    return host.call(rank, 'regionPush', { op: reply.op, region, placements, block: s === 0 ? block : null, blockOffset: 0 }, options);
  });
  await allParts(pushes);
  return sizes.filter((size) => size !== PACKED_ABSENT).length;
}

/**
 * Runs of staged pairs (each server's in scan order) written into the region as one packed-pairs
 * layout in global scan order, as many as fit and at most `limit`; `resume` is the last key
 * written when more remain. Not even one fitting is HPCKV_ERR_REGION_TOO_SMALL.
 */
export async function pushScan(host: RegionHost, staged: readonly StagedPart[], region: RegionDescriptor, reverse: boolean, limit: number,
  options: RegionCallOptions): Promise<RegionScanResult> {
  const runs = staged.map(({ rank, reply }) => {
    const keys = unpackList(reply.keys ?? new Uint8Array(4), 'regionStage keys', host.limits.batchEntriesMax, null).map((k) => k ?? Buffer.alloc(0));
    return { rank, op: reply.op, keys, sizes: readU32s(reply.valueSizes, keys.length, `regionStage reply of server ${rank}`) };
  });
  const merge = new OrderedMerge<number>(runs.map((run) => run.rank), reverse);
  const runOf = new Map<MergeCursor<number>, number>();
  merge.cursors.forEach((cursor, r) => {
    cursor.page = { keys: runs[r]!.keys, values: runs[r]!.sizes, done: staged[r]!.reply.done };
    runOf.set(cursor, r);
  });
  // Merge the servers' runs; stop where a server that has more than it staged could hold the next key.
  const taken: Array<{ run: number; entry: number }> = [];
  let bytes = 4;
  let more = false;
  // What the region needs to hold the next entry in order (reported when not even one fits).
  let firstNeeds = 4;
  for (;;) {
    const next = merge.next();
    if (next === undefined || next === 'wait') { more = next === 'wait'; break; }
    if (taken.length >= limit) { more = true; break; }
    const entryBytes = 8 + next.headKey().length + next.headValue()!;
    if (bytes + entryBytes > region.length) { more = true; firstNeeds = bytes + entryBytes; break; }
    taken.push({ run: runOf.get(next)!, entry: next.at });
    bytes += entryBytes;
    next.at++;
  }
  if (taken.length === 0 && more) {
    // The entry that comes first in scan order, not the smallest first entry of any server: a
    // region of the smallest could still not hold the entry the scan must write first.
    await releaseStaged(host, staged, options);
    throw regionTooSmall(firstNeeds, region.length);
  }
  const n = taken.length;
  // Header and keys (all known here from the stage replies) go as one block; servers push values.
  const { block, valuesStart } = packHeaderAndKeys(taken.map(({ run, entry }) => runs[run]!.keys[entry]!),
    taken.map(({ run, entry }) => runs[run]!.sizes[entry]!));
  let at = valuesStart;
  const perRun = runs.map(() => [] as number[]);
  for (const { run, entry } of taken) {
    const size = runs[run]!.sizes[entry]!;
    perRun[run]!.push(entry, at, size);
    at += size;
  }
  await allParts(runs.map(async (run, r) => {
    const placements = perRun[r]!;
    if (placements.length === 0 && r !== 0) {
      await host.call(run.rank, 'regionRelease', { op: run.op }, options);
      return 0;
    }
    return host.call(run.rank, 'regionPush', { op: run.op, region, placements, block: r === 0 ? block : null, blockOffset: 0 }, options);
  }));
  const last = taken[n - 1];
  return {
    count: n, bytes: at,
    resume: more && last !== undefined ? host.decodeKey(runs[last.run]!.keys[last.entry]!) : undefined,
  };
}

/** `count` u32 sizes (little-endian) as a stage reply carries them; any other length is HPCKV_ERR_PROTOCOL. */
function readU32s(bytes: Uint8Array, count: number, what: string): number[] {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 4 * count) {
    throw new HpckvError(ErrorCodes.PROTOCOL, `${what}: expected ${count} sizes`);
  }
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: count }, (_, i) => view.readUInt32LE(4 * i));
}

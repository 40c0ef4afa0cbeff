import { ErrorCodes, HpckvError } from '../core/errors.js';
import { checkEntries } from '../core/protocol/field-checks.js';
import { DEFAULT_DATABASE, type KeyRangeWire } from '../core/protocol/messages.js';
import { PACKED_ABSENT, packedCount, packedLayout, regionTooSmall, slotsLayoutBytes } from '../core/regions/packed-pairs.js';
import { checkRegionDescriptor, type RegionDescriptor } from '../core/regions/region-descriptor.js';
import { packList } from '../core/wire/packed-list.js';
import { allParts } from './core/fan-out.js';
import { RegionHandle } from './region-handle.js';
import { pushGet, pushScan, releaseStaged } from './region-push.js';
import type {
  RegionGetOptions, RegionHost, RegionIntoTarget, RegionPutOptions, RegionScanOptions, RegionScanResult,
} from './region-types.js';

export type * from './region-types.js';

/**
 * Client-memory operations (RDMA style) of a Client: the servers pull pairs out of a registered
 * region for a put and push results into one for a get or scan; each call returns a handle as
 * soon as every server taking part accepted it.
 */
export class RegionOps {
  readonly #host: RegionHost;

  constructor(host: RegionHost) {
    this.#host = host;
  }

  /**
   * Stores the pairs a region holds (packed-pairs layout). A region of this client is routed
   * here (each server is told which entries are its own); another process's region is read by
   * every server, which keeps the keys the partitioning gives it. Atomic within each server.
   */
  async putFromRegion(descriptor: RegionDescriptor, options: RegionPutOptions = {}): Promise<RegionHandle<number>> {
    const region = checkRegionDescriptor(descriptor);
    const host = this.#host;
    const db = options.db ?? DEFAULT_DATABASE;
    const sync = options.sync === true ? { sync: true } : {};
    let targets: Array<{ rank: number; indices?: Uint8Array }>;
    let data: Buffer | undefined;
    if (host.router.ranks.length === 1) {
      // One server owns every key: it reads the layout itself, the client touches no record.
      targets = [{ rank: host.router.ranks[0]! }];
      if (host.registry.owns(region)) {
        // A small region rides with the request (eager), as Mercury does below its eager size.
        if (region.length <= Math.min(host.limits.regionEagerBytesMax, host.limits.regionChunkBytesMax)) data = host.registry.view(region);
        else await host.attachOwner();
      }
    } else if (host.registry.owns(region)) {
      const bytes = host.registry.view(region);
      const count = packedCount(bytes, bytes.length);
      const layout = packedLayout(count, bytes.subarray(4, 4 + 8 * count), bytes.length);
      const keys = new Array<Uint8Array>(count);
      for (let i = 0; i < count; i++) {
        if (layout.valueSizes[i] === PACKED_ABSENT) throw new HpckvError(ErrorCodes.BAD_LAYOUT, `pair ${i} has no value (0xFFFFFFFF): a put needs every value`);
        keys[i] = bytes.subarray(layout.keyOffsets[i]!, layout.keyOffsets[i]! + layout.keySizes[i]!);
      }
      const byServer = host.router.byServer(keys);
      targets = byServer.flatMap((indices, rank) => (indices.length === 0 ? [] : [{ rank, indices: u32Bytes(indices) }]));
      const only = targets.length === 1 ? targets[0]! : undefined;
      if (only !== undefined && region.length <= Math.min(host.limits.regionEagerBytesMax, host.limits.regionChunkBytesMax)) {
        // Every pair is one server's and the region is small: its bytes ride with the request.
        targets = [{ rank: only.rank }];
        data = bytes;
      } else {
        await host.attachOwner();
      }
    } else {
      targets = host.router.ranks.map((rank) => ({ rank }));
    }
    const release = host.registry.acquire(region);
    try {
      const accepted = await allParts(targets.map(({ rank, indices }) =>
        host.call(rank, 'regionPut', { db, region, ...(indices === undefined ? {} : { indices }), ...(data === undefined ? {} : { data }), ...sync }, options)
          .then((reply) => ({ rank, op: reply.op }))));
      const done = allParts(accepted.map(({ rank, op }) => host.completions.expect(rank, op)))
        .then((records) => records.reduce((a, b) => a + b, 0));
      done.then(release, release);
      return new RegionHandle(done);
    } catch (error) {
      release();
      throw error;
    }
  }

  /**
   * Values of `keys` (stored bytes, already encoded) pushed into a region by their servers:
   * packed (the packed-pairs layout, keys echoed, missing keys with size 0xFFFFFFFF) or into
   * slots of `slotBytes` (u32 sizes first; a longer value is cut, its size tells). The handle's
   * result is the number of keys found (stored), as a put's is the number of records stored.
   */
  async getIntoRegion(keys: readonly Uint8Array[], descriptor: RegionDescriptor, options: RegionGetOptions = {}): Promise<RegionHandle<number>> {
    const region = checkRegionDescriptor(descriptor);
    const host = this.#host;
    const db = options.db ?? DEFAULT_DATABASE;
    const layout = options.layout ?? 'packed';
    if (layout !== 'packed' && layout !== 'slots') throw new TypeError(`layout must be 'packed' or 'slots', got ${String(layout)}`);
    const slotBytes = options.slotBytes ?? 0;
    if (layout === 'slots') {
      if (!Number.isSafeInteger(slotBytes) || slotBytes < 1) throw new RangeError('slots need slotBytes, an integer >= 1');
      const needed = slotsLayoutBytes(keys.length, slotBytes);
      if (needed > region.length) throw regionTooSmall(needed, region.length);
    }
    checkEntries(keys.length, host.limits, 'the keys');
    const byServer = host.router.byServer(keys);
    let ranks = byServer.flatMap((indices, rank) => (indices.length > 0 ? [rank] : []));
    // Even a get of no keys writes its layout's header, through one server.
    if (ranks.length === 0) ranks = [host.router.ranks[0]!];
    if (host.registry.owns(region)) await host.attachOwner();
    const release = host.registry.acquire(region);
    try {
      if (ranks.length === 1) {
        // One server has every key: it lays the region out and pushes at once (one request).
        const rank = ranks[0]!;
        const reply = await host.call(rank, 'regionStage', {
          db, packedKeys: packList(keys), bytesMax: region.length, push: { region, layout, slotBytes },
        }, options);
        // The server pushes exactly the values it found, and reports that count.
        const done = host.completions.expect(rank, reply.op);
        done.then(release, release);
        return new RegionHandle(done);
      }
      const staged = await allParts(ranks.map((rank) => host.call(rank, 'regionStage',
        { db, packedKeys: packList(byServer[rank]!.map((i) => keys[i]!)), bytesMax: region.length }, options).then((reply) => ({ rank, reply }))));
      const done = pushGet(host, keys, byServer, staged, region, layout, slotBytes, options);
      done.then(release, release);
      return new RegionHandle(done);
    } catch (error) {
      release();
      throw error;
    }
  }

  /**
   * A range's pairs written into a region in the packed-pairs layout, in global key order
   * (descending with `reverse`), as many as fit; `resume` says where to continue.
   */
  async scanIntoRegion(descriptor: RegionDescriptor, range: KeyRangeWire, options: RegionScanOptions = {}): Promise<RegionHandle<RegionScanResult>> {
    const region = checkRegionDescriptor(descriptor);
    const host = this.#host;
    const db = options.db ?? DEFAULT_DATABASE;
    const reverse = options.reverse === true;
    const limit = options.limit ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError('limit must be an integer >= 1');
    if (region.length < 4) throw regionTooSmall(4, region.length);
    const holding = host.router.rangeServers(range);
    // A range no server holds still gets one server, which writes the empty layout's count.
    const ranks = holding.length > 0 ? holding : [0];
    if (host.registry.owns(region)) await host.attachOwner();
    const release = host.registry.acquire(region);
    try {
      // Each server stages at most what the region could hold of its own entries alone.
      const staged = await allParts(ranks.map((rank) => host.call(rank, 'regionStage',
        { db, range: { ...range, reverse, limit }, bytesMax: region.length - 4 }, options).then((reply) => ({ rank, reply }))));
      const done = pushScan(host, staged, region, reverse, limit, options);
      done.then(release, release);
      return new RegionHandle(done);
    } catch (error) {
      release();
      throw error;
    }
  }

  /**
   * A region that procedure results will be written into (execute's `into`): checked, and held
   * (its owner attached) until `release`. `write` lays out runs of staged results (procStage
   * replies, each in key order) as one packed-pairs layout in key order and has the servers push
   * their values; `discard` lets staged runs go unwritten.
   */
  async intoRegion(descriptor: RegionDescriptor): Promise<RegionIntoTarget> {
    const region = checkRegionDescriptor(descriptor);
    const host = this.#host;
    if (region.length < 4) throw regionTooSmall(4, region.length);
    if (host.registry.owns(region)) await host.attachOwner();
    const release = host.registry.acquire(region);
    return {
      region,
      write: (staged, reverse) => pushScan(host, staged, region, reverse, Number.MAX_SAFE_INTEGER, {}),
      discard: (staged) => releaseStaged(host, staged, {}),
      release,
    };
  }
}

function u32Bytes(values: readonly number[]): Buffer {
  const out = Buffer.allocUnsafe(4 * values.length);
  values.forEach((v, i) => out.writeUInt32LE(v, 4 * i));
  return out;
}

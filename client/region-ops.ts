import { ErrorCodes, HpckvError } from '../core/errors.js';
import type { KeyValue } from '../core/keys/key-type.js';
import type { Limits } from '../core/limits.js';
import { checkEntries } from '../core/protocol/field-checks.js';
import { allParts } from './core/fan-out.js';
import { DEFAULT_DATABASE, type KeyRangeWire, type OpName, type OpReply, type OpRequest } from '../core/protocol/messages.js';
import type { RegionStageReply } from '../core/protocol/region-messages.js';
import {
  PACKED_ABSENT, packHeaderAndKeys, packedCount, packedLayout, regionTooSmall, slotsLayoutBytes,
} from '../core/regions/packed-pairs.js';
import { checkRegionDescriptor, type RegionDescriptor } from '../core/regions/region-descriptor.js';
import { packList, unpackList } from '../core/wire/packed-list.js';
import type { Partitioner } from '../partition/partitioner.js';
import { RegionCompletions, RegionHandle } from './region-handle.js';
import type { RegionRegistry } from './region-registry.js';

/** What the region operations need of their Client. */
export interface RegionHost {
  readonly limits: Limits;
  readonly partitioner: Partitioner;
  readonly serverRanks: readonly number[];
  readonly registry: RegionRegistry;
  readonly completions: RegionCompletions;
  call<O extends OpName>(rank: number, op: O, body: OpRequest<O>, options: RegionCallOptions): Promise<OpReply<O>>;
  /** Makes sure every server can reach this client's regions (regionAttach on every connection). */
  attachOwner(): Promise<void>;
  decodeKey(bytes: Uint8Array): KeyValue;
  /** The servers that may hold a range's keys (all of them unless the partitioning says fewer). */
  serversOfRange(range: KeyRangeWire): number[];
}

export interface RegionCallOptions {
  db?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface RegionPutOptions extends RegionCallOptions {
  sync?: boolean;
}

export interface RegionGetOptions extends RegionCallOptions {
  /** 'packed' (default): the packed-pairs layout; 'slots': u32 sizes, then one slot of `slotBytes` per key. */
  layout?: 'packed' | 'slots';
  slotBytes?: number;
}

export interface RegionScanOptions extends RegionCallOptions, KeyRangeWire {
  reverse?: boolean;
  /** Most entries written. */
  limit?: number;
}

/** Where execute's `into` writes (RegionOps.intoRegion). */
export interface RegionIntoTarget {
  readonly region: RegionDescriptor;
  write(staged: Array<{ rank: number; reply: RegionStageReply }>, reverse: boolean): Promise<RegionScanResult>;
  discard(staged: Array<{ rank: number; reply: RegionStageReply }>): Promise<void>;
  release(): void;
}

export interface RegionScanResult {
  /** Entries written into the region (packed-pairs layout). */
  count: number;
  /** Bytes of the region the layout takes. */
  bytes: number;
  /**
   * The last key written when the range holds more than fitted (continue with `gt` of it, or
   * `lt` for a reverse scan); undefined when the whole range was written.
   */
  resume: KeyValue | undefined;
}

function u32Bytes(values: readonly number[]): Buffer {
  const out = Buffer.allocUnsafe(4 * values.length);
  values.forEach((v, i) => out.writeUInt32LE(v, 4 * i));
  return out;
}

function readU32s(bytes: Uint8Array, count: number, what: string): number[] {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 4 * count) {
    throw new HpckvError(ErrorCodes.PROTOCOL, `${what}: expected ${count} sizes`);
  }
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: count }, (_, i) => view.readUInt32LE(4 * i));
}

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
    if (host.serverRanks.length === 1) {
      // One server owns every key: it reads the layout itself, the client touches no record.
      targets = [{ rank: host.serverRanks[0]! }];
      if (host.registry.owns(region)) {
        // A small region rides with the request (eager), as Mercury does below its eager size.
        if (region.length <= Math.min(host.limits.regionEagerBytesMax, host.limits.regionChunkBytesMax)) data = host.registry.view(region);
        else await host.attachOwner();
      }
    } else if (host.registry.owns(region)) {
      const bytes = host.registry.view(region);
      const count = packedCount(bytes, bytes.length);
      const layout = packedLayout(count, bytes.subarray(4, 4 + 8 * count), bytes.length);
      const byServer: number[][] = host.serverRanks.map(() => []);
      for (let i = 0; i < count; i++) {
        if (layout.valueSizes[i] === PACKED_ABSENT) throw new HpckvError(ErrorCodes.BAD_LAYOUT, `pair ${i} has no value (0xFFFFFFFF): a put needs every value`);
        const key = bytes.subarray(layout.keyOffsets[i]!, layout.keyOffsets[i]! + layout.keySizes[i]!);
        byServer[host.partitioner.serverFor(key)]!.push(i);
      }
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
      targets = host.serverRanks.map((rank) => ({ rank }));
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
   * slots of `slotBytes` (u32 sizes first; a longer value is cut, its size tells).
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
    const byServer: number[][] = host.serverRanks.map(() => []);
    keys.forEach((key, i) => byServer[host.partitioner.serverFor(key)]!.push(i));
    let ranks = byServer.flatMap((indices, rank) => (indices.length > 0 ? [rank] : []));
    // Even a get of no keys writes its layout's header, through one server.
    if (ranks.length === 0) ranks = [host.serverRanks[0]!];
    if (host.registry.owns(region)) await host.attachOwner();
    const release = host.registry.acquire(region);
    try {
      if (ranks.length === 1) {
        // One server has every key: it lays the region out and pushes at once (one request).
        const rank = ranks[0]!;
        const reply = await host.call(rank, 'regionStage', {
          db, packedKeys: packList(keys), bytesMax: region.length, push: { region, layout, slotBytes },
        }, options);
        const done = host.completions.expect(rank, reply.op).then(() => keys.length);
        done.then(release, release);
        return new RegionHandle(done);
      }
      const staged = await allParts(ranks.map((rank) => host.call(rank, 'regionStage',
        { db, packedKeys: packList(byServer[rank]!.map((i) => keys[i]!)), bytesMax: region.length }, options).then((reply) => ({ rank, reply }))));
      const done = this.#pushGet(keys, byServer, staged, region, layout, slotBytes, options);
      done.then(release, release);
      return new RegionHandle(done);
    } catch (error) {
      release();
      throw error;
    }
  }

  async #pushGet(keys: readonly Uint8Array[], byServer: number[][], staged: Array<{ rank: number; reply: RegionStageReply }>,
    region: RegionDescriptor, layout: 'packed' | 'slots', slotBytes: number, options: RegionCallOptions): Promise<number> {
    const host = this.#host;
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
        await Promise.all(staged.map(({ rank, reply }) => host.call(rank, 'regionRelease', { op: reply.op }, options).catch(() => undefined)));
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
    return n;
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
    const ranks = host.serversOfRange(range);
    if (host.registry.owns(region)) await host.attachOwner();
    const release = host.registry.acquire(region);
    try {
      // Each server stages at most what the region could hold of its own entries alone.
      const staged = await allParts(ranks.map((rank) => host.call(rank, 'regionStage',
        { db, range: { ...range, reverse, limit }, bytesMax: region.length - 4 }, options).then((reply) => ({ rank, reply }))));
      const done = this.#pushScan(staged, region, reverse, limit, options);
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
      write: (staged, reverse) => this.#pushScan(staged, region, reverse, Number.MAX_SAFE_INTEGER, {}),
      discard: async (staged) => {
        await Promise.all(staged.map(({ rank, reply }) => host.call(rank, 'regionRelease', { op: reply.op }, {}).catch(() => undefined)));
      },
      release,
    };
  }

  async #pushScan(staged: Array<{ rank: number; reply: RegionStageReply }>, region: RegionDescriptor, reverse: boolean, limit: number,
    options: RegionCallOptions): Promise<RegionScanResult> {
    const host = this.#host;
    const runs = staged.map(({ rank, reply }) => {
      const keys = unpackList(reply.keys ?? new Uint8Array(4), 'regionStage keys', host.limits.batchEntriesMax).map((k) => k ?? Buffer.alloc(0));
      return { rank, op: reply.op, done: reply.done, keys, sizes: readU32s(reply.valueSizes, keys.length, `regionStage reply of server ${rank}`), at: 0 };
    });
    // Merge the servers' runs; stop where a server that has more than it staged could hold the next key.
    const taken: Array<{ run: number; entry: number }> = [];
    let bytes = 4;
    let more = false;
    // What the region needs to hold the next entry in order (reported when not even one fits).
    let firstNeeds = 4;
    for (;;) {
      let best = -1;
      for (let r = 0; r < runs.length; r++) {
        const run = runs[r]!;
        if (run.at >= run.keys.length) continue;
        if (best < 0) { best = r; continue; }
        const order = Buffer.compare(run.keys[run.at]!, runs[best]!.keys[runs[best]!.at]!);
        if (reverse ? order > 0 : order < 0) best = r;
      }
      const blocked = runs.some((run) => run.at >= run.keys.length && !run.done);
      if (best < 0 || blocked) { more = blocked || runs.some((run) => run.at < run.keys.length); break; }
      if (taken.length >= limit) { more = true; break; }
      const run = runs[best]!;
      const entryBytes = 8 + run.keys[run.at]!.length + run.sizes[run.at]!;
      if (bytes + entryBytes > region.length) { more = true; firstNeeds = bytes + entryBytes; break; }
      taken.push({ run: best, entry: run.at });
      bytes += entryBytes;
      run.at++;
    }
    if (taken.length === 0 && more) {
      // The entry that comes first in scan order, not the smallest first entry of any server: a
      // region of the smallest could still not hold the entry the scan must write first.
      await Promise.all(runs.map((run) => host.call(run.rank, 'regionRelease', { op: run.op }, options).catch(() => undefined)));
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
}


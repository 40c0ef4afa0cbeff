import { ErrorCodes, HpckvError, errorToWire } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import { limitExceeded } from '../core/protocol/field-checks.js';
import type { RegionAccepted, RegionDoneNotice, RegionStageReply } from '../core/protocol/region-messages.js';
import type { RegionDescriptor } from '../core/regions/region-descriptor.js';
import { PACKED_ABSENT, packHeaderAndKeys, regionTooSmall } from '../core/regions/packed-pairs.js';
import { packList } from '../core/wire/packed-list.js';
import type { Partitioner } from '../partition/partitioner.js';
import type { Database } from './database.js';
import type { ServiceOps, ValidRequests } from '../core/protocol/op-table.js';
import type { ValidRegionPush, ValidRegionPut, ValidRegionStage } from '../core/protocol/validate/region-requests.js';
import { pagesOf } from './ordered-reads.js';
import { putFromRegion, type RegionPutContext } from './regions/region-put.js';
import { SMALL_VALUE_BYTES } from './regions/region-reader.js';
import { RegionTransfers, type BackChannel } from './regions/region-transfers.js';

export interface RegionServiceOptions {
  limits: Limits;
  /** The group's partitioning: a put without indices stores the keys it gives this server. */
  partitioner: Partitioner;
  rank: number;
  /** The store of a database (its name checked by the request's validator). */
  database: (name: string) => Database;
  backChannel: BackChannel;
}

/** Results of a get or scan held for their push. */
interface Staged {
  issuer: number;
  /** The values pushed later (the client writes keys and sizes itself, in the header block). */
  values: Array<Buffer | null>;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * The server side of client-memory operations: owners attach their connections, puts pull
 * packed pairs from a region (in chunks of regionChunkBytesMax) and store them in one LevelDB
 * batch, gets and scans stage their results and push them where the client laid them out.
 * Every operation is answered once accepted and reported to its issuer by `regionDone`. A
 * transfer that fails (owner gone, bounds, access) fails its operation and writes nothing.
 */
export class RegionService {
  readonly #options: RegionServiceOptions;
  readonly #transfers: RegionTransfers;
  readonly #putContext: RegionPutContext;
  readonly #staged = new Map<number, Staged>();
  #nextOp = 1;
  #running = 0;

  constructor(options: RegionServiceOptions) {
    this.#options = options;
    this.#transfers = new RegionTransfers(options.limits, options.rank, options.backChannel);
    this.#putContext = { limits: options.limits, partitioner: options.partitioner, rank: options.rank, transfers: this.#transfers };
  }

  /** Answers a checked request of a client-memory operation that came on `connectionId`. */
  handle<Op extends ServiceOps<'regions'>>(op: Op, request: ValidRequests[Op], connectionId: number): unknown {
    return (this.#handlers[op] as (request: ValidRequests[Op], connectionId: number) => unknown)(request, connectionId);
  }

  readonly #handlers: { readonly [Op in ServiceOps<'regions'>]: (request: ValidRequests[Op], connectionId: number) => unknown } = {
    regionAttach: ({ owner }, connectionId) => {
      this.#transfers.attach(owner, connectionId);
      return null;
    },
    regionPut: (request, connectionId) => this.#put(request, connectionId),
    regionStage: (request, connectionId) => this.#stage(request, connectionId),
    regionPush: (request, connectionId) => this.#push(request, connectionId),
    regionRelease: ({ op }) => {
      this.#drop(op);
      return null;
    },
    // Test-only: the dispatch answers it on servers started with test hooks alone.
    regionTestHold: ({ hold, afterChunks }) => {
      this.#transfers.setHold(hold, afterChunks);
      return null;
    },
  };

  /** A connection closed: the owners it served are gone, and results staged for it are dropped. */
  onConnectionClose(connectionId: number): void {
    this.#transfers.onConnectionClose(connectionId);
    for (const [op, staged] of this.#staged) if (staged.issuer === connectionId) this.#drop(op);
  }

  /** Takes a slot for a new operation (HPCKV_ERR_TOO_MANY_IN_FLIGHT beyond regionOpsPerServerMax). */
  #begin(): number {
    const max = this.#options.limits.regionOpsPerServerMax;
    if (this.#running + this.#staged.size >= max) {
      throw new HpckvError(ErrorCodes.TOO_MANY_IN_FLIGHT, `server rank ${this.#options.rank} runs ${max} client-memory operations, regionOpsPerServerMax`,
        { details: { limit: 'regionOpsPerServerMax', max } });
    }
    const op = this.#nextOp;
    this.#nextOp = op >= 0xffff_ffff ? 1 : op + 1;
    return op;
  }

  /** Runs an accepted operation in the background and tells its issuer how it ended. */
  #run(op: number, issuer: number, work: () => Promise<number>): RegionAccepted {
    this.#running++;
    void (async () => {
      let notice: RegionDoneNotice;
      try {
        // Start on the next turn: the acceptance leaves first, ahead of any bytes the work moves.
        await new Promise<void>((resolve) => setImmediate(resolve));
        notice = { op, records: await work(), error: null };
      } catch (error) {
        notice = { op, records: 0, error: errorToWire(error) };
      } finally {
        this.#running--;
      }
      // The issuer may have gone; its operation's effects (or their absence) stand either way.
      await this.#options.backChannel.callPeer(issuer, 'regionDone', notice, this.#options.limits.requestTimeoutMs).catch(() => undefined);
    })();
    return { op };
  }

  // ---- put ----------------------------------------------------------------------------------

  #put(r: ValidRegionPut, issuer: number): RegionAccepted {
    const database = this.#options.database(r.db);
    const op = this.#begin();
    return this.#run(op, issuer, () => putFromRegion(this.#putContext, r, database));
  }

  // ---- get and scan: stage, then push ---------------------------------------------------------

  async #stage(r: ValidRegionStage, issuer: number): Promise<RegionStageReply> {
    const database = this.#options.database(r.db);
    const limits = this.#options.limits;
    const bytesMax = Math.min(r.bytesMax, limits.regionOpBytesMax);
    const op = this.#begin();
    let keys: Buffer[] | null = null;
    let values: Array<Buffer | null>;
    let done = true;
    if (r.keys !== null) {
      values = database.getMany(r.keys);
      let bytes = 0;
      for (const value of values) bytes += value?.length ?? 0;
      if (bytes > limits.regionOpBytesMax) {
        throw limitExceeded(ErrorCodes.BATCH_TOO_LARGE, 'regionOpBytesMax', 'the values on this server', bytes, limits.regionOpBytesMax, 'bytes');
      }
    } else {
      const scan = r.range!;
      const staged: Buffer[] = [];
      keys = staged;
      values = [];
      let bytes = 0;
      const pages = pagesOf(scan.bounds, scan.reverse, (from) => database.scanPage(from, {
        reverse: scan.reverse, limit: Math.min(scan.limit - staged.length, limits.scanPageEntriesMax),
        pageBytes: Math.max(1, Math.min(limits.scanPageBytesMax, bytesMax - bytes)), values: true,
      }));
      for await (const page of pages) {
        let full = false;
        for (let i = 0; i < page.keys.length; i++) {
          const entryBytes = page.keys[i]!.length + page.values![i]!.length;
          // The first entry is staged even when alone it exceeds the room: the client reports the region too small.
          if (bytes + entryBytes > bytesMax && staged.length > 0) { full = true; break; }
          staged.push(page.keys[i]!);
          values.push(page.values![i]!);
          bytes += entryBytes;
        }
        if (full) { done = false; break; }
        if (page.done) break;
        if (staged.length >= scan.limit) { done = false; break; }
      }
    }
    if (r.push !== null && r.keys !== null) return this.#getAndPush(op, issuer, r.keys, values, r.push);
    return this.#hold(op, issuer, keys, values, done, limits.regionStageHoldMs);
  }

  /**
   * Stages entries found by something else (a procedure job's results) as a scan's would be:
   * in their order, as many as fit `bytesMax` (the first always, so the client can report a
   * region too small), held `holdMs` for the client's regionPush. `done`: all of them fit.
   */
  stageEntries(issuer: number, entries: { keys: Buffer[]; values: Buffer[] }, bytesMax: number, holdMs: number): RegionStageReply {
    const op = this.#begin();
    let bytes = 0;
    let n = 0;
    for (; n < entries.keys.length; n++) {
      const entryBytes = entries.keys[n]!.length + entries.values[n]!.length;
      if (bytes + entryBytes > bytesMax && n > 0) break;
      bytes += entryBytes;
    }
    const all = n === entries.keys.length;
    return this.#hold(op, issuer, all ? entries.keys : entries.keys.slice(0, n), all ? entries.values : entries.values.slice(0, n), all, holdMs);
  }

  /** Holds staged values for their push (dropped after `holdMs`) and answers their sizes. */
  #hold(op: number, issuer: number, keys: Buffer[] | null, values: Array<Buffer | null>, done: boolean, holdMs: number): RegionStageReply {
    const timer = setTimeout(() => this.#drop(op), holdMs);
    timer.unref();
    this.#staged.set(op, { issuer, values, timer });
    const sizes = Buffer.allocUnsafe(4 * values.length);
    values.forEach((value, i) => sizes.writeUInt32LE(value === null ? PACKED_ABSENT : value.length, 4 * i));
    return { op, valueSizes: sizes, keys: keys === null ? null : packList(keys), done };
  }

  /**
   * A get whose keys all live here: this server knows every size, so it lays the region out
   * itself and pushes at once, one request instead of stage and push (answered as accepted, then
   * reported by regionDone). HPCKV_ERR_REGION_TOO_SMALL at the call when the results do not fit.
   */
  #getAndPush(op: number, issuer: number, keys: Buffer[], values: Array<Buffer | null>,
    push: { region: RegionDescriptor; layout: 'packed' | 'slots'; slotBytes: number }): RegionStageReply {
    const n = keys.length;
    const sizes = Buffer.allocUnsafe(4 * n);
    values.forEach((value, i) => sizes.writeUInt32LE(value === null ? PACKED_ABSENT : value.length, 4 * i));
    const placements: number[] = [];
    let block: Buffer;
    if (push.layout === 'packed') {
      const packed = packHeaderAndKeys(keys, values.map((value) => (value === null ? PACKED_ABSENT : value.length)));
      block = packed.block;
      let at = packed.valuesStart;
      values.forEach((value, i) => { if (value !== null) { placements.push(i, at, value.length); at += value.length; } });
      if (at > push.region.length) throw regionTooSmall(at, push.region.length);
    } else {
      const needed = 4 * n + n * push.slotBytes;
      if (needed > push.region.length) throw regionTooSmall(needed, push.region.length);
      block = sizes;
      values.forEach((value, i) => { if (value !== null) placements.push(i, 4 * n + i * push.slotBytes, push.slotBytes); });
    }
    this.#run(op, issuer, () => this.#pushStaged(values, push.region, placements, block, 0));
    return { op, valueSizes: sizes, keys: null, done: true };
  }

  #drop(op: number): void {
    const staged = this.#staged.get(op);
    if (staged === undefined) return;
    clearTimeout(staged.timer);
    this.#staged.delete(op);
  }

  async #push(r: ValidRegionPush, issuer: number): Promise<number> {
    const staged = this.#staged.get(r.op);
    if (staged === undefined || staged.issuer !== issuer) {
      throw new HpckvError(ErrorCodes.BAD_REQUEST, `no staged results for operation ${r.op} (expired after regionStageHoldMs, or never staged here)`,
        { details: { op: r.op } });
    }
    // The results now belong to the push; it counts as a running operation until done.
    clearTimeout(staged.timer);
    this.#staged.delete(r.op);
    this.#running++;
    try {
      return await this.#pushStaged(staged.values, r.region, r.placements, r.block, r.blockOffset);
    } finally {
      this.#running--;
    }
  }

  /** Pushes staged values to their placements (entry, offset, cap triples), after the literal block. */
  async #pushStaged(values: ReadonlyArray<Buffer | null>, region: RegionDescriptor, placements: readonly number[],
    block: Buffer | null, blockOffset: number): Promise<number> {
    const pieces: Array<[number, Buffer]> = [];
    if (block !== null) pieces.push([blockOffset, block]);
    // Small values placed one after another travel as one piece (fewer, larger back-channel items).
    let run: { offset: number; parts: Buffer[]; bytes: number } | null = null;
    const endRun = (): void => {
      if (run === null) return;
      pieces.push([run.offset, run.parts.length === 1 ? run.parts[0]! : Buffer.concat(run.parts, run.bytes)]);
      run = null;
    };
    let pushed = 0;
    for (let i = 0; i < placements.length; i += 3) {
      const entry = placements[i]!;
      const offset = placements[i + 1]!;
      const cap = placements[i + 2]!;
      if (entry >= values.length) throw new HpckvError(ErrorCodes.BAD_REQUEST, `placement of entry ${entry}: only ${values.length} are staged`);
      const value = values[entry];
      pushed++;
      if (value === null || value === undefined) continue;
      const bytes = value.subarray(0, Math.min(value.length, cap));
      const current = run as { offset: number; parts: Buffer[]; bytes: number } | null;
      if (current !== null && current.offset + current.bytes === offset && bytes.length < SMALL_VALUE_BYTES && current.bytes < this.#transfers.chunkBytes / 2) {
        current.parts.push(bytes);
        current.bytes += bytes.length;
      } else {
        endRun();
        if (bytes.length < SMALL_VALUE_BYTES) run = { offset, parts: [bytes], bytes: bytes.length };
        else pieces.push([offset, bytes]);
      }
    }
    endRun();
    await this.#transfers.pushPieces(region, pieces);
    return pushed;
  }
}

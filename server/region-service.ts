import { ErrorCodes, HpckvError, errorToWire } from '../core/errors.js';
import { FRAME_OVERHEAD_BYTES, type Limits } from '../core/limits.js';
import { checkEntries, checkKey, checkValue, limitExceeded } from '../core/protocol/field-checks.js';
import type { RegionAccepted, RegionDoneNotice, RegionStageReply } from '../core/region-protocol.js';
import { localOwner } from '../core/regions/local-owners.js';
import { canRead, canWrite, checkWithin, type RegionDescriptor } from '../core/regions/region-descriptor.js';
import { PACKED_ABSENT, packHeaderAndKeys, packedCount, packedHeaderBytes, packedLayout, regionTooSmall } from '../core/regions/packed-pairs.js';
import { PackedListChunks, packList } from '../core/wire/packed-list.js';
import type { Partitioner } from '../partition/partitioner.js';
import type { Database } from './database.js';
import {
  validatePushRequest, validateRegionAttach, validateRegionPut, validateRegionStage, validateReleaseRequest, validateTestHold,
} from './validate-region-request.js';
import type { ValidationContext } from './validate-request.js';

/** What the region service needs of the rpc server: calls back to a client over its connection. */
export interface BackChannel {
  callPeer(connectionId: number, op: string, body: unknown, timeoutMs: number): Promise<unknown>;
}

export interface RegionServiceOptions {
  limits: Limits;
  /** The group's partitioning: a put without indices stores the keys it gives this server. */
  partitioner: Partitioner;
  rank: number;
  /** The store of a database (validated by the caller's request checks). */
  database: (name: string) => Database;
  context: ValidationContext;
  backChannel: BackChannel;
  /** Accept the regionTestHold hook (HPCKV_TEST_HOOKS=1). */
  testHooks: boolean;
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
  /** Owner id -> the connection its regions are served over. */
  readonly #owners = new Map<string, number>();
  readonly #staged = new Map<number, Staged>();
  #nextOp = 1;
  #running = 0;
  #held: Array<() => void> | null = null;
  /** Test hook: chunks still let through before transfers are held. */
  #chunksBeforeHold = 0;

  /** Bytes one pull or push message moves: regionChunkBytesMax, lowered so the message fits a frame. */
  readonly #chunkBytes: number;

  constructor(options: RegionServiceOptions) {
    this.#options = options;
    this.#chunkBytes = Math.max(1, Math.min(options.limits.regionChunkBytesMax, options.limits.frameBytesMax - FRAME_OVERHEAD_BYTES));
  }

  handle(op: string, body: unknown, connectionId: number): unknown {
    switch (op) {
      case 'regionAttach': {
        const { owner } = validateRegionAttach(body);
        this.#owners.set(owner, connectionId);
        return null;
      }
      case 'regionPut': return this.#put(body, connectionId);
      case 'regionStage': return this.#stage(body, connectionId);
      case 'regionPush': return this.#push(body, connectionId);
      case 'regionRelease': {
        this.#drop(validateReleaseRequest(body).op);
        return null;
      }
      case 'regionTestHold': {
        if (!this.#options.testHooks) throw new HpckvError(ErrorCodes.UNKNOWN_OP, 'regionTestHold needs a server started with HPCKV_TEST_HOOKS=1');
        const hold = validateTestHold(body);
        this.#setHold(hold.hold, hold.afterChunks);
        return null;
      }
      default:
        throw new HpckvError(ErrorCodes.UNKNOWN_OP, `unknown region operation "${op.slice(0, 100)}"`);
    }
  }

  /** A connection closed: the owners it served are gone, and results staged for it are dropped. */
  onConnectionClose(connectionId: number): void {
    for (const [owner, id] of this.#owners) if (id === connectionId) this.#owners.delete(owner);
    for (const [op, staged] of this.#staged) if (staged.issuer === connectionId) this.#drop(op);
  }

  #setHold(hold: boolean, afterChunks: number): void {
    if (hold) { this.#held ??= []; this.#chunksBeforeHold = afterChunks; return; }
    const waiting = this.#held ?? [];
    this.#held = null;
    for (const wake of waiting) wake();
  }

  /**
   * Runs before an operation starts and before every chunk it moves: resolves at once, or, while
   * the test hook holds transfers, when it releases them (after letting `afterChunks` chunks pass).
   */
  #gate(): Promise<void> {
    const held = this.#held;
    if (held === null) return Promise.resolve();
    if (this.#chunksBeforeHold > 0) { this.#chunksBeforeHold--; return Promise.resolve(); }
    return new Promise((resolve) => { held.push(resolve); });
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

  // ---- transfers ----------------------------------------------------------------------------

  /** Bytes at `offset` (relative to the descriptor), pulled from the owner in chunks. */
  async #pull(region: RegionDescriptor, offset: number, length: number): Promise<Buffer> {
    checkWithin(region, offset, length, 'pull');
    if (!canRead(region.access)) throw new HpckvError(ErrorCodes.REGION_ACCESS, 'the region was not registered for reading');
    const local = localOwner(region.owner);
    if (local !== undefined) {
      await this.#gate();
      return local.read(region.region, region.offset + offset, length);
    }
    const connection = this.#ownerConnection(region.owner);
    const chunk = this.#chunkBytes;
    const parts: Buffer[] = [];
    for (let at = 0; at < length; at += chunk) {
      const n = Math.min(chunk, length - at);
      await this.#gate();
      const reply = await this.#options.backChannel.callPeer(connection, 'regionRead',
        { region: region.region, offset: region.offset + offset + at, length: n }, this.#options.limits.requestTimeoutMs);
      if (!(reply instanceof Uint8Array) || reply.length !== n) {
        throw new HpckvError(ErrorCodes.PROTOCOL, `the region owner answered a ${n}-byte read with ${reply instanceof Uint8Array ? reply.length : typeof reply}`);
      }
      parts.push(Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength));
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
  }

  /** Writes pieces (offsets relative to the descriptor) into the owner's region, in chunks. */
  async #pushPieces(region: RegionDescriptor, pieces: Array<[number, Buffer]>): Promise<void> {
    if (!canWrite(region.access)) throw new HpckvError(ErrorCodes.REGION_ACCESS, 'the region was not registered for writing');
    for (const [offset, bytes] of pieces) checkWithin(region, offset, bytes.length, 'push');
    const absolute = pieces.map(([offset, bytes]): [number, Buffer] => [region.offset + offset, bytes]);
    const local = localOwner(region.owner);
    if (local !== undefined) {
      await this.#gate();
      local.write(region.region, absolute);
      return;
    }
    const connection = this.#ownerConnection(region.owner);
    const chunk = this.#chunkBytes;
    // Messages of up to a chunk of bytes; the bytes travel as a packed list, which the frame
    // writes from the values' own buffers (no copy on this side).
    const messages: Array<{ offsets: number[]; parts: Buffer[] }> = [];
    let current: { offsets: number[]; parts: Buffer[] } = { offsets: [], parts: [] };
    let bytes = 0;
    for (const [offset, piece] of absolute) {
      for (let at = 0; at === 0 || at < piece.length; at += chunk) {
        const part = piece.subarray(at, Math.min(piece.length, at + chunk));
        if (bytes + part.length + 8 > chunk && current.parts.length > 0) {
          messages.push(current);
          current = { offsets: [], parts: [] };
          bytes = 0;
        }
        current.offsets.push(offset + at);
        current.parts.push(part);
        bytes += part.length + 8;
        if (piece.length === 0) break;
      }
    }
    if (current.parts.length > 0) messages.push(current);
    for (let i = 0; i < messages.length; i += TRANSFERS_IN_FLIGHT) {
      await Promise.all(messages.slice(i, i + TRANSFERS_IN_FLIGHT).map(async ({ offsets, parts }) => {
        await this.#gate();
        await this.#options.backChannel.callPeer(connection, 'regionWrite',
          { region: region.region, offsets, data: new PackedListChunks(parts) }, this.#options.limits.requestTimeoutMs);
      }));
    }
  }

  #ownerConnection(owner: string): number {
    const connection = this.#owners.get(owner);
    if (connection === undefined) {
      throw new HpckvError(ErrorCodes.UNKNOWN_REGION, `region owner ${owner} is not attached to server rank ${this.#options.rank}`,
        { details: { owner, rank: this.#options.rank } });
    }
    return connection;
  }

  // ---- put ----------------------------------------------------------------------------------

  #put(body: unknown, issuer: number): RegionAccepted {
    const r = validateRegionPut(body, this.#options.context);
    const database = this.#options.database(r.db);
    const op = this.#begin();
    return this.#run(op, issuer, async () => {
      const limits = this.#options.limits;
      const region = r.region;
      // The first pull takes as much as one message carries: for a region of up to
      // regionChunkBytesMax that is the whole put, header and pairs, in one round trip.
      const reader = new RegionReader((offset, length) => this.#pull(region, offset, length), region.length, this.#chunkBytes);
      if (r.data !== null) {
        // The bytes came with the request: nothing to pull (the hold hook still holds the put here).
        await this.#gate();
        reader.provide(0, r.data);
      }
      await reader.prefetch(0, Math.min(region.length, this.#chunkBytes));
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
      } else if (this.#options.partitioner.serverCount === 1) {
        mine = Array.from({ length: count }, (_, i) => i);
      } else {
        // Every key is read to find this server's; a client that owns the region routes itself and sends indices.
        const valuesStart = count === 0 ? headerBytes : layout.valueOffsets[0]!;
        await reader.prefetch(headerBytes, valuesStart - headerBytes);
        mine = [];
        for (let i = 0; i < count; i++) {
          if (this.#options.partitioner.serverFor(reader.get(layout.keyOffsets[i]!, layout.keySizes[i]!)) === this.#options.rank) mine.push(i);
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
        await reader.prefetchSpans(coalesceSpans(spans, this.#chunkBytes));
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
        this.#checkPair(keys[j]!, values[j]!, i);
      }
      await database.write(keys, values, r.sync);
      return mine.length;
    });
  }

  #checkPair(key: Buffer, value: Buffer, index: number): void {
    checkKey(key, this.#options.limits, { field: 'key', index });
    checkValue(value, this.#options.limits, { field: 'value', index });
  }

  // ---- get and scan: stage, then push ---------------------------------------------------------

  async #stage(body: unknown, issuer: number): Promise<RegionStageReply> {
    const r = validateRegionStage(body, this.#options.context);
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
        throw new HpckvError(ErrorCodes.BATCH_TOO_LARGE, `${bytes} bytes of values on this server, regionOpBytesMax is ${limits.regionOpBytesMax}`,
          { details: { limit: 'regionOpBytesMax', max: limits.regionOpBytesMax } });
      }
    } else {
      const scan = r.range!;
      keys = [];
      values = [];
      let bytes = 0;
      const bounds = { ...scan.bounds };
      for (;;) {
        const page = await database.scanPage(bounds, {
          reverse: scan.reverse, limit: Math.min(scan.limit - keys.length, limits.scanPageEntriesMax),
          pageBytes: Math.max(1, Math.min(limits.scanPageBytesMax, bytesMax - bytes)), values: true,
        });
        let full = false;
        for (let i = 0; i < page.keys.length; i++) {
          const entryBytes = page.keys[i]!.length + page.values![i]!.length;
          // The first entry is staged even when alone it exceeds the room: the client reports the region too small.
          if (bytes + entryBytes > bytesMax && keys.length > 0) { full = true; break; }
          keys.push(page.keys[i]!);
          values.push(page.values![i]!);
          bytes += entryBytes;
        }
        if (full) { done = false; break; }
        if (page.done) { done = true; break; }
        if (keys.length >= scan.limit) { done = false; break; }
        const last = keys[keys.length - 1]!;
        if (scan.reverse) { delete bounds.lte; bounds.lt = last; } else { delete bounds.gte; bounds.gt = last; }
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

  async #push(body: unknown, issuer: number): Promise<number> {
    const r = validatePushRequest(body);
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
      if (current !== null && current.offset + current.bytes === offset && bytes.length < SMALL_VALUE_BYTES && current.bytes < this.#chunkBytes / 2) {
        current.parts.push(bytes);
        current.bytes += bytes.length;
      } else {
        endRun();
        if (bytes.length < SMALL_VALUE_BYTES) run = { offset, parts: [bytes], bytes: bytes.length };
        else pieces.push([offset, bytes]);
      }
    }
    endRun();
    await this.#pushPieces(region, pieces);
    return pushed;
  }
}


/**
 * Spans sorted and joined where the join still fits one chunk: a server whose entries are
 * scattered over the region (a hash group) pulls a few chunks holding them, not one message per
 * key and value; the bytes between its entries are the price.
 */
function coalesceSpans(spans: ReadonlyArray<readonly [number, number]>, chunk: number): Array<[number, number]> {
  const sorted = [...spans].filter(([, length]) => length > 0).sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [offset, length] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && offset + length - last[0] <= chunk) last[1] = Math.max(last[1], offset + length - last[0]);
    else out.push([offset, length]);
  }
  return out;
}

/** Values below this size are joined with their neighbours into one piece; larger ones travel as they are. */
const SMALL_VALUE_BYTES = 4096;

/**
 * What a put has pulled from a region: spans fetched in chunks (several in flight at once),
 * then read as views. Keeps a put's transfers to as few round trips as the chunk size allows.
 */
class RegionReader {
  readonly #pull: (offset: number, length: number) => Promise<Buffer>;
  readonly #length: number;
  readonly #chunk: number;
  /** Fetched spans, sorted by offset, not overlapping. */
  #spans: Array<{ offset: number; bytes: Buffer }> = [];

  constructor(pull: (offset: number, length: number) => Promise<Buffer>, length: number, chunk: number) {
    this.#pull = pull;
    this.#length = length;
    this.#chunk = chunk;
  }

  /** Bytes already at hand (sent with the request). */
  provide(offset: number, bytes: Buffer): void {
    this.#spans = [...this.#spans, { offset, bytes }].sort((a, b) => a.offset - b.offset);
  }

  /** Fetches [offset, offset + length) where not fetched yet. */
  prefetch(offset: number, length: number): Promise<void> {
    return this.prefetchSpans([[offset, length]]);
  }

  async prefetchSpans(spans: ReadonlyArray<readonly [number, number]>): Promise<void> {
    const missing: Array<[number, number]> = [];
    for (const [offset, length] of spans) {
      if (offset + length > this.#length) {
        throw new HpckvError(ErrorCodes.BAD_LAYOUT, `packed layout: ${length} bytes at ${offset} run past the region's ${this.#length}`);
      }
      let at = offset;
      const end = offset + length;
      for (const span of this.#spans) {
        if (span.offset + span.bytes.length <= at) continue;
        if (span.offset >= end) break;
        if (span.offset > at) missing.push([at, span.offset - at]);
        at = Math.max(at, span.offset + span.bytes.length);
      }
      if (at < end) missing.push([at, end - at]);
    }
    // Chunk-sized pulls, a few in flight at once: the owner answers one while the next travels.
    const pulls: Array<[number, number]> = [];
    for (const [offset, length] of missing) {
      for (let at = 0; at < length; at += this.#chunk) pulls.push([offset + at, Math.min(this.#chunk, length - at)]);
    }
    const fetched: Array<{ offset: number; bytes: Buffer }> = [];
    for (let i = 0; i < pulls.length; i += TRANSFERS_IN_FLIGHT) {
      const batch = pulls.slice(i, i + TRANSFERS_IN_FLIGHT);
      const parts = await Promise.all(batch.map(([offset, length]) => this.#pull(offset, length)));
      parts.forEach((bytes, j) => fetched.push({ offset: batch[j]![0], bytes }));
    }
    if (fetched.length > 0) this.#spans = [...this.#spans, ...fetched].sort((a, b) => a.offset - b.offset);
  }

  /** The one fetched piece holding all of [offset, offset + length), or undefined. */
  contiguous(offset: number, length: number): Buffer | undefined {
    for (const span of this.#spans) {
      if (offset >= span.offset && offset + length <= span.offset + span.bytes.length) {
        return offset === span.offset && length === span.bytes.length ? span.bytes : span.bytes.subarray(offset - span.offset, offset - span.offset + length);
      }
    }
    return undefined;
  }

  /** A view of fetched bytes; a span crossing two fetched pieces is copied once. */
  get(offset: number, length: number): Buffer {
    if (length === 0) return Buffer.alloc(0);
    for (let i = 0; i < this.#spans.length; i++) {
      const span = this.#spans[i]!;
      if (offset >= span.offset && offset < span.offset + span.bytes.length) {
        if (offset + length <= span.offset + span.bytes.length) return span.bytes.subarray(offset - span.offset, offset - span.offset + length);
        const parts: Buffer[] = [];
        let at = offset;
        for (let j = i; j < this.#spans.length && at < offset + length; j++) {
          const s = this.#spans[j]!;
          if (s.offset > at) break;
          const piece = s.bytes.subarray(at - s.offset, Math.min(s.bytes.length, offset + length - s.offset));
          parts.push(piece);
          at += piece.length;
        }
        if (at === offset + length) return Buffer.concat(parts, length);
        break;
      }
    }
    throw new HpckvError(ErrorCodes.INTERNAL, `region bytes ${offset}..${offset + length} were not fetched`);
  }
}

/** Pulls or pushes one operation keeps in flight at once: the owner answers one while the next travels. */
const TRANSFERS_IN_FLIGHT = 4;

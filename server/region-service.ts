import { ErrorCodes, HpckvError, errorToWire } from '../core/errors.js';
import { FRAME_OVERHEAD_BYTES, type Limits } from '../core/limits.js';
import type { RegionAccepted, RegionDoneNotice, RegionStageReply } from '../core/region-protocol.js';
import { localOwner } from '../core/regions/local-owners.js';
import { canRead, canWrite, checkWithin, type RegionDescriptor } from '../core/regions/region-descriptor.js';
import { PACKED_ABSENT, packedCount, packedHeaderBytes, packedLayout } from '../core/regions/packed-pairs.js';
import { packList } from '../core/wire/packed-list.js';
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
  keys: Buffer[] | null;
  values: Array<Buffer | null>;
  bytes: number;
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

  /** Whether `op` is one of this service's. */
  static handles(op: string): boolean {
    return op === 'regionAttach' || op === 'regionPut' || op === 'regionStage' || op === 'regionPush'
      || op === 'regionRelease' || op === 'regionTestHold';
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
    let batch: Array<[number, Buffer]> = [];
    let bytes = 0;
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const sending = batch;
      batch = [];
      bytes = 0;
      await this.#gate();
      await this.#options.backChannel.callPeer(connection, 'regionWrite', { region: region.region, pieces: sending }, this.#options.limits.requestTimeoutMs);
    };
    for (const [offset, piece] of absolute) {
      // A piece larger than a chunk goes in chunk-sized parts.
      for (let at = 0; at < piece.length || (piece.length === 0 && at === 0); at += chunk) {
        const part = piece.subarray(at, Math.min(piece.length, at + chunk));
        if (bytes + part.length > chunk) await flush();
        batch.push([offset + at, part]);
        bytes += part.length + 16;
        if (piece.length === 0) break;
      }
    }
    await flush();
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
      const count = packedCount(await this.#pull(region, 0, Math.min(4, region.length)), region.length);
      if (count > limits.batchEntriesMax && r.indices === null) {
        throw new HpckvError(ErrorCodes.BATCH_TOO_LARGE, `the region holds ${count} pairs, batchEntriesMax is ${limits.batchEntriesMax}`,
          { details: { limit: 'batchEntriesMax', max: limits.batchEntriesMax } });
      }
      const layout = packedLayout(count, await this.#pull(region, 4, 8 * count), region.length);
      // Every pair of the layout is checked, not only this server's: a layout with an absent value
      // is refused by every server alike, so no server stores its share of a malformed region.
      const absent = layout.valueSizes.indexOf(PACKED_ABSENT);
      if (absent >= 0) throw new HpckvError(ErrorCodes.BAD_LAYOUT, `pair ${absent} has no value (0xFFFFFFFF): a put needs every value`);
      for (const index of r.indices ?? []) {
        if (index >= count) throw new HpckvError(ErrorCodes.BAD_REQUEST, `index ${index} is beyond the region's ${count} pairs`);
      }
      const bytesOf = (i: number): number => layout.keySizes[i]! + (layout.valueSizes[i] === PACKED_ABSENT ? 0 : layout.valueSizes[i]!);
      let mine: number[];
      let keys: Buffer[];
      if (r.indices === null) {
        // Every key is read to find this server's; a client that owns the region routes itself and sends indices.
        const allKeys = await this.#pull(region, packedHeaderBytes(count), layout.valueOffsets[0] === undefined ? 0 : layout.valueOffsets[0] - packedHeaderBytes(count));
        const all = layout.keyOffsets.map((offset, i) => allKeys.subarray(offset - packedHeaderBytes(count), offset - packedHeaderBytes(count) + layout.keySizes[i]!));
        mine = [];
        for (let i = 0; i < count; i++) if (this.#options.partitioner.serverFor(all[i]!) === this.#options.rank) mine.push(i);
        keys = mine.map((i) => all[i]!);
      } else {
        mine = r.indices;
        keys = [];
      }
      if (mine.length > limits.batchEntriesMax) {
        throw new HpckvError(ErrorCodes.BATCH_TOO_LARGE, `${mine.length} pairs for this server, batchEntriesMax is ${limits.batchEntriesMax}`,
          { details: { limit: 'batchEntriesMax', max: limits.batchEntriesMax } });
      }
      let total = 0;
      for (const i of mine) total += bytesOf(i);
      if (total > limits.regionOpBytesMax) {
        throw new HpckvError(ErrorCodes.BATCH_TOO_LARGE, `${total} bytes of pairs for this server, regionOpBytesMax is ${limits.regionOpBytesMax}`,
          { details: { limit: 'regionOpBytesMax', max: limits.regionOpBytesMax } });
      }
      const values = await this.#pullEntries(region, layout, mine, r.indices === null ? null : (i) => [layout.keyOffsets[i]!, layout.keySizes[i]!], keys);
      for (let j = 0; j < mine.length; j++) {
        const i = mine[j]!;
        this.#checkPair(keys[j]!, values[j]!, i);
      }
      await database.write(keys, values, r.sync);
      return mine.length;
    });
  }

  /**
   * Pulls the values (and, with `keyExtent`, the keys) of entries `mine` of a layout. Spans of
   * consecutive entries go in one pull of up to regionChunkBytesMax, so a server owning a whole
   * region pulls it in as few messages as its size allows.
   */
  async #pullEntries(region: RegionDescriptor, layout: ReturnType<typeof packedLayout>, mine: number[],
    keyExtent: ((i: number) => [number, number]) | null, keysOut: Buffer[]): Promise<Buffer[]> {
    const values: Buffer[] = [];
    const chunk = this.#chunkBytes;
    const valueSize = (i: number): number => (layout.valueSizes[i] === PACKED_ABSENT ? 0 : layout.valueSizes[i]!);
    // Runs of entries whose bytes are contiguous in the region: keys of consecutive entries are, values too.
    const pullRuns = async (offsetOf: (i: number) => number, sizeOf: (i: number) => number, out: Buffer[]): Promise<void> => {
      let j = 0;
      while (j < mine.length) {
        const start = offsetOf(mine[j]!);
        let end = start + sizeOf(mine[j]!);
        let k = j + 1;
        while (k < mine.length && mine[k] === mine[k - 1]! + 1 && end + sizeOf(mine[k]!) - start <= chunk) { end += sizeOf(mine[k]!); k++; }
        const bytes = await this.#pull(region, start, end - start);
        for (let m = j; m < k; m++) {
          const at = offsetOf(mine[m]!) - start;
          out.push(bytes.subarray(at, at + sizeOf(mine[m]!)));
        }
        j = k;
      }
    };
    if (keyExtent !== null) await pullRuns((i) => keyExtent(i)[0], (i) => keyExtent(i)[1], keysOut);
    await pullRuns((i) => layout.valueOffsets[i]!, valueSize, values);
    return values;
  }

  #checkPair(key: Buffer, value: Buffer, index: number): void {
    const { keyBytesMax, valueBytesMax } = this.#options.limits;
    if (key.length === 0 || key.length > keyBytesMax) {
      throw new HpckvError(ErrorCodes.KEY_TOO_LARGE, `pair ${index}: key of ${key.length} bytes (1..${keyBytesMax})`,
        { details: { limit: 'keyBytesMax', max: keyBytesMax, index } });
    }
    if (value.length > valueBytesMax) {
      throw new HpckvError(ErrorCodes.VALUE_TOO_LARGE, `pair ${index}: value of ${value.length} bytes, valueBytesMax is ${valueBytesMax}`,
        { details: { limit: 'valueBytesMax', max: valueBytesMax, index } });
    }
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
      // The keys are staged too: a packed get echoes them into the region.
      keys = r.keys;
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
    let staged = 0;
    for (let i = 0; i < values.length; i++) staged += (values[i]?.length ?? 0) + (keys?.[i]?.length ?? 0);
    const timer = setTimeout(() => this.#drop(op), limits.regionStageHoldMs);
    timer.unref();
    this.#staged.set(op, { issuer, keys, values, bytes: staged, timer });
    const sizes = Buffer.allocUnsafe(4 * values.length);
    values.forEach((value, i) => sizes.writeUInt32LE(value === null ? PACKED_ABSENT : value.length, 4 * i));
    return { op, valueSizes: sizes, keys: r.keys !== null ? null : packList(keys ?? []), done };
  }

  #drop(op: number): void {
    const staged = this.#staged.get(op);
    if (staged === undefined) return;
    clearTimeout(staged.timer);
    this.#staged.delete(op);
  }

  #push(body: unknown, issuer: number): RegionAccepted {
    const r = validatePushRequest(body);
    const staged = this.#staged.get(r.op);
    if (staged === undefined || staged.issuer !== issuer) {
      throw new HpckvError(ErrorCodes.BAD_REQUEST, `no staged results for operation ${r.op} (expired after regionStageHoldMs, or never staged here)`,
        { details: { op: r.op } });
    }
    // The results now belong to the push; it counts as a running operation until done.
    clearTimeout(staged.timer);
    this.#staged.delete(r.op);
    return this.#run(r.op, issuer, async () => {
      const pieces: Array<[number, Buffer]> = [];
      const word = (value: number): Buffer => { const b = Buffer.allocUnsafe(4); b.writeUInt32LE(value, 0); return b; };
      for (let i = 0; i < r.words.length; i += 2) pieces.push([r.words[i]!, word(r.words[i + 1]!)]);
      let pushed = 0;
      for (let i = 0; i < r.placements.length; i += 4) {
        const entry = r.placements[i]!;
        const keyOffset = r.placements[i + 1]!;
        const valueOffset = r.placements[i + 2]!;
        const valueCap = r.placements[i + 3]!;
        if (entry >= staged.values.length) throw new HpckvError(ErrorCodes.BAD_REQUEST, `placement of entry ${entry}: only ${staged.values.length} are staged`);
        if (keyOffset >= 0) {
          if (staged.keys === null) throw new HpckvError(ErrorCodes.INTERNAL, 'no keys were staged');
          pieces.push([keyOffset, staged.keys[entry]!]);
        }
        const value = staged.values[entry];
        if (valueOffset >= 0 && value !== null && value !== undefined) pieces.push([valueOffset, value.subarray(0, Math.min(value.length, valueCap))]);
        pushed++;
      }
      await this.#pushPieces(r.region, pieces);
      return pushed;
    });
  }
}

import type { Communicator } from '../core/comm/communicator.js';
import { groupAuthSecret, parseGroupFile, readGroupFile, type GroupFile } from '../core/group-file.js';
import { checkAuthSecret } from '../core/rpc/auth-handshake.js';
import { resolveLimits, type Limits } from '../core/limits.js';
import {
  BatchOpCode, DEFAULT_DATABASE, type BatchEntry, type CursorReply, type KeyRangeWire, type OpName, type OpReply, type OpRequest, type StatReply,
} from '../core/protocol.js';
import { ErrorCodes, HpckvError, isHpckvError } from '../core/errors.js';
import { packList, unpackList } from '../core/wire/packed-list.js';
import { MergedScan } from './merged-scan.js';
import { sendPutMany } from './put-many-parts.js';
import { asBuffer, checkBatchEntries, keyBytes, valueBytes, type BytesInput } from './bytes.js';
import { checkKey } from '../core/protocol/field-checks.js';
import { keyCodec, type KeyCodec } from '../core/keys/key-codec.js';
import { parseKeyType, type KeyValue } from '../core/keys/key-type.js';
import { ServerConnections } from './server-connections.js';
import type { RpcClient } from '../core/rpc/rpc-client.js';
import type { RegionAccess, RegionDescriptor } from '../core/regions/region-descriptor.js';
import { RegionCompletions, RegionHandle } from './region-handle.js';
import { RegionOps, type RegionCallOptions, type RegionGetOptions, type RegionPutOptions, type RegionScanResult } from './region-ops.js';
import { RegionRegistry, type RegionMemory } from './region-registry.js';
import { checkProcedureSpec, procedureHash, type ProcedureSpec } from '../core/procedure-spec.js';
import type { ProcDoneNotice } from '../core/procedure-protocol.js';
import { clientOp } from '../core/protocol/op-table.js';
import { allParts } from './core/fan-out.js';
import type {
  BatchOperation, ClientOptions, ExecuteOptions, IterateOptions, KeyInput, RangeOptions, RequestOptions, ServerKeyBounds, SliceStat, WriteOptions,
} from './core/options.js';
import { encodeBounds } from './core/range-routing.js';
import { Router } from './core/router.js';
import { executeRequest, ProcedureHandle, type ProcedureHost } from './procedure-handle.js';
import { ServerNotices } from './server-notices.js';
import { SecondaryIndex, type CreateIndexOptions, type IndexHost, type OpenIndexOptions } from './secondary-index.js';

export type {
  BatchOperation, ClientOptions, ExecuteOptions, IterateOptions, KeyInput, RangeOptions, RequestOptions, ServerKeyBounds, SliceStat, WriteOptions,
} from './core/options.js';

/**
 * The native hpckv client. Routes every key to its server with the group's partitioner, keeps
 * one pipelined connection per server, splits multi-key calls into one message per server and
 * puts the answers back in the caller's order.
 */
export class Client {
  readonly group: GroupFile;
  readonly limits: Limits;
  /** Every "which server(s)" of this client: a key, a batch's keys, a range. */
  private readonly router: Router;
  private readonly connections: ServerConnections;
  private readonly registry = new RegionRegistry();
  private readonly completions = new RegionCompletions();
  private readonly procedureNotices = new ServerNotices<ProcDoneNotice>();
  private readonly regionOps: RegionOps;
  private attaching: Promise<void> | undefined;
  /** The store's key codec; undefined for `bytes` stores, whose keys are taken as given. */
  private readonly codec: KeyCodec | undefined;
  /** Secondary indexes created or opened by this client, by name (for putIndexed and delIndexed). */
  private readonly indexes = new Map<string, SecondaryIndex>();

  private constructor(group: GroupFile, limits: Limits, authSecret: Uint8Array | undefined) {
    this.group = group;
    this.limits = limits;
    this.codec = group.keyType === 'bytes' ? undefined : keyCodec(parseKeyType(group.keyType));
    this.router = new Router(group);
    this.connections = new ServerConnections(group, limits, (connection, rank) => this.setUpConnection(connection, rank), authSecret);
    this.regionOps = new RegionOps({
      limits, partitioner: this.router, serverRanks: this.router.ranks,
      registry: this.registry, completions: this.completions,
      call: (rank, op, body, options) => this.call(rank, op, body, options),
      attachOwner: () => this.attachOwner(),
      decodeKey: (bytes) => this.decodeKey(bytes),
      serversOfRange: (range) => {
        const ranks = this.router.rangeServers(range);
        // A range no server holds still gets one server, which writes the empty layout's count.
        return ranks.length > 0 ? ranks : [0];
      },
    });
  }

  /** Every connection answers its server's pulls, pushes and completion notices (the back channel). */
  private async setUpConnection(connection: RpcClient, rank: number): Promise<void> {
    // Back-channel requests route by the op table (core/protocol/op-table.ts).
    connection.serve((op, body) => {
      switch (clientOp(op).service) {
        case 'regionCompletions': return this.completions.notice(rank, body);
        case 'procedureNotices': {
          const notice = body as ProcDoneNotice;
          if (typeof notice?.job !== 'number') throw new HpckvError(ErrorCodes.BAD_REQUEST, 'procDone needs { job, state }');
          this.procedureNotices.deliver(rank, notice.job, notice);
          return null;
        }
        case 'regionRegistry': return this.registry.serve(op, body);
      }
    });
    connection.onClose((error) => {
      this.completions.lost(rank, error);
      this.procedureNotices.lost(rank, error);
    });
    if (this.attaching !== undefined) await connection.call('regionAttach', { owner: this.registry.owner });
  }

  /** Tells every server that this client's connection serves its regions (once; reconnects attach again). */
  private attachOwner(): Promise<void> {
    this.attaching ??= Promise.all(this.router.ranks.map(async (rank) => {
      const connection = await this.connections.get(rank);
      await connection.call('regionAttach', { owner: this.registry.owner });
    })).then(() => undefined);
    return this.attaching;
  }

  /**
   * Registers memory for client-memory operations and returns its descriptor (serializable: it
   * may be handed to another process, whose operations the servers then serve from this one's
   * memory). Every server is told where to reach it before this resolves.
   */
  async registerRegion(memory: RegionMemory, access: RegionAccess = 'rw'): Promise<RegionDescriptor> {
    const descriptor = this.registry.register(memory, access);
    await this.attachOwner();
    return descriptor;
  }

  /** A descriptor of part of a region (offset and length relative to `descriptor`). */
  sliceRegion(descriptor: RegionDescriptor, offset: number, length: number): RegionDescriptor {
    return RegionRegistry.slice(descriptor, offset, length);
  }

  /** Forgets a region; HPCKV_ERR_REGION_BUSY while operations this client issued on it are pending. */
  deregisterRegion(descriptor: RegionDescriptor): void {
    this.registry.deregister(descriptor);
  }

  /**
   * Stores the pairs of a region (packed-pairs layout, keys as stored bytes): the owning servers
   * pull them and write them atomically per server. Resolves with a handle once every server
   * taking part accepted; the handle's result is the number of records stored.
   */
  putFromRegion(descriptor: RegionDescriptor, options: RegionPutOptions = {}): Promise<RegionHandle<number>> {
    return this.regionOps.putFromRegion(descriptor, options);
  }

  /** Values of `keys` pushed by their servers into a region (packed pairs, or slots); a handle once accepted. */
  getIntoRegion(keys: readonly KeyInput[], descriptor: RegionDescriptor, options: RegionGetOptions = {}): Promise<RegionHandle<number>> {
    return this.regionOps.getIntoRegion(keys.map((key) => this.encodeKey(key)), descriptor, options);
  }

  /** A range's pairs pushed into a region in global key order (packed pairs), with a resume key when it does not fit. */
  scanIntoRegion(descriptor: RegionDescriptor, range: RangeOptions & { reverse?: boolean; limit?: number } = {}, options: RegionCallOptions = {}): Promise<RegionHandle<RegionScanResult>> {
    const { reverse, limit } = range;
    return this.regionOps.scanIntoRegion(descriptor, this.rangeBounds(range), {
      ...options, ...(reverse === undefined ? {} : { reverse }), ...(limit === undefined ? {} : { limit }),
    });
  }

  /**
   * Runs a procedure (filter, map or reduce; see core/procedure-spec.ts) next to the data on
   * every server that holds part of the range, in the servers' sandboxes. Resolves with a handle
   * once every one of them accepted its job; `handle.wait()` gives the matches in key order (or
   * the combined reduction), `handle.poll()` the progress, `handle.cancel()` stops it.
   */
  async execute(spec: ProcedureSpec, options: ExecuteOptions = {}): Promise<ProcedureHandle> {
    const checked = checkProcedureSpec(spec);
    const hash = procedureHash(checked);
    const range = this.rangeBounds(options);
    const reverse = options.reverse === true;
    const request = executeRequest(options.db ?? DEFAULT_DATABASE, hash, range, reverse, options.args);
    if (options.scanEntriesMax !== undefined) request.scanEntriesMax = options.scanEntriesMax;
    if (options.resultBytesMax !== undefined) request.resultBytesMax = options.resultBytesMax;
    const host = this.procedureHost(checked);
    if (options.into !== undefined && checked.kind === 'reduce') {
      throw new HpckvError(ErrorCodes.BAD_REQUEST, 'into: a reduce gives one value, not entries to write into a region');
    }
    const into = options.into === undefined ? undefined : await this.regionOps.intoRegion(options.into);
    try {
      const parts = await Promise.all(this.router.rangeServers(range).map(async (rank) => ({ rank, job: await host.execute(rank, request), request })));
      return new ProcedureHandle(host, checked, reverse, parts, into);
    } catch (error) {
      into?.release();
      throw error;
    }
  }

  private procedureHost(spec: ProcedureSpec): ProcedureHost {
    return {
      limits: this.limits, notices: this.procedureNotices,
      call: (rank, op, body, options) => this.call(rank, op, body, options),
      decodeKey: (bytes) => this.decodeKey(bytes),
      execute: async (rank, request) => {
        try {
          return (await this.call(rank, 'procExecute', request, {})).job;
        } catch (error) {
          if (!isHpckvError(error, ErrorCodes.UNKNOWN_PROCEDURE)) throw error;
          // The server has not seen this procedure (or evicted it): its body travels once.
          await this.call(rank, 'procRegister', { spec }, {});
          return (await this.call(rank, 'procExecute', request, {})).job;
        }
      },
    };
  }

  /** Which of the handles are done (never blocks). */
  poll(handles: ReadonlyArray<RegionHandle<unknown>>): boolean[] {
    return handles.map((handle) => handle.test());
  }

  /** Attaches to a group by reading its group file. */
  static async open(groupFilePath: string, options: ClientOptions = {}): Promise<Client> {
    return Client.fromGroup(await readGroupFile(groupFilePath), options);
  }

  /**
   * Collective over `comm`: the `root` rank passes the group (or its file's path), every rank
   * receives it and attaches. For applications that start under mpirun with the group known
   * to one rank only.
   */
  static async fromCommunicator(comm: Communicator, root: number, group?: GroupFile | string,
    options: ClientOptions = {}): Promise<Client> {
    let mine: GroupFile | undefined;
    if (comm.rank === root) {
      if (group === undefined) throw new TypeError('the root rank must pass the group or its file path');
      mine = typeof group === 'string' ? await readGroupFile(group) : group;
    }
    const shared = await comm.bcast<GroupFile | undefined>(root, mine);
    return Client.fromGroup(parseGroupFile(shared, `group from rank ${root}`), options);
  }

  static async fromGroup(group: GroupFile, options: ClientOptions = {}): Promise<Client> {
    const authSecret = options.authSecret === undefined ? groupAuthSecret(group) : checkAuthSecret(options.authSecret, 'ClientOptions.authSecret');
    return new Client(group, resolveLimits(group.limits, options.limits), authSecret);
  }

  get serverCount(): number {
    return this.group.servers.length;
  }

  /**
   * A key as the store holds it: for a `bytes` store the bytes (a string as UTF-8), for a typed
   * store the order-preserving encoding of a value of its key type (HPCKV_ERR_BAD_KEY otherwise).
   */
  encodeKey(key: KeyInput): Uint8Array {
    if (this.codec === undefined) return keyBytes(key as BytesInput, this.limits);
    return checkKey(this.codec.encode(key as KeyValue), this.limits);
  }

  /** The value of a key read back (cursors and scans return keys as stored bytes). */
  decodeKey(bytes: Uint8Array): KeyValue {
    return this.codec === undefined ? asBuffer(bytes) : this.codec.decode(bytes);
  }

  /** Rank of the server that owns a key. */
  serverFor(key: KeyInput): number {
    return this.router.serverFor(this.encodeKey(key));
  }

  /** RequestOptions is a CallOptions (timeoutMs, signal); its other fields are ignored there. */
  private call<O extends OpName>(rank: number, op: O, body: OpRequest<O>, options: RequestOptions): Promise<OpReply<O>> {
    return this.connections.call(rank, op, body, options) as Promise<OpReply<O>>;
  }

  /** A single-key request: its server and body, built as one object (this is every single operation's path). */
  private keyed(key: KeyInput, options: RequestOptions): { rank: number; body: { db: string; key: Uint8Array } } {
    const bytes = this.encodeKey(key);
    return { rank: this.router.serverFor(bytes), body: { db: options.db ?? DEFAULT_DATABASE, key: bytes } };
  }

  /** A single-key write with a value (put, putIfAbsent, append). */
  private keyedWrite(key: KeyInput, value: BytesInput, options: WriteOptions): { rank: number; body: { db: string; key: Uint8Array; value: Uint8Array; sync?: boolean } } {
    const bytes = this.encodeKey(key);
    const body: { db: string; key: Uint8Array; value: Uint8Array; sync?: boolean } = { db: options.db ?? DEFAULT_DATABASE, key: bytes, value: valueBytes(value, this.limits) };
    if (options.sync !== undefined) body.sync = options.sync;
    return { rank: this.router.serverFor(bytes), body };
  }

  // put and get are not async functions: that saves a promise and a turn per call; a bad key or
  // value still rejects the returned promise rather than throwing.
  put(key: KeyInput, value: BytesInput, options: WriteOptions = {}): Promise<void> {
    let request: ReturnType<Client['keyedWrite']>;
    try {
      request = this.keyedWrite(key, value, options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.call(request.rank, 'put', request.body, options).then(toVoid);
  }

  /** The value, or undefined when the key is not stored. */
  get(key: KeyInput, options: RequestOptions = {}): Promise<Buffer | undefined> {
    let request: ReturnType<Client['keyed']>;
    try {
      request = this.keyed(key, options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.call(request.rank, 'get', request.body, options).then(toBufferOrUndefined);
  }

  async del(key: KeyInput, options: WriteOptions = {}): Promise<void> {
    const { rank, body } = this.keyed(key, options);
    await this.call(rank, 'del', { ...body, ...syncOf(options) }, options);
  }

  async exists(key: KeyInput, options: RequestOptions = {}): Promise<boolean> {
    const { rank, body } = this.keyed(key, options);
    return this.call(rank, 'exists', body, options);
  }

  /** Size of the stored value in bytes, or undefined when the key is not stored. */
  async length(key: KeyInput, options: RequestOptions = {}): Promise<number | undefined> {
    const { rank, body } = this.keyed(key, options);
    const length = await this.call(rank, 'length', body, options);
    return length === null ? undefined : length;
  }

  /** Write-once put: throws HPCKV_ERR_KEY_EXISTS (and writes nothing) when the key is stored. */
  async putIfAbsent(key: KeyInput, value: BytesInput, options: WriteOptions = {}): Promise<void> {
    const { rank, body } = this.keyedWrite(key, value, options);
    await this.call(rank, 'putIfAbsent', body, options);
  }

  /** Appends to the stored value (MDHIM append mode), creating it if absent; returns the new length. */
  async append(key: KeyInput, value: BytesInput, options: WriteOptions = {}): Promise<number> {
    const { rank, body } = this.keyedWrite(key, value, options);
    return this.call(rank, 'append', body, options);
  }

  /**
   * Mixed puts and deletes, one message per server. Atomic within each server (one LevelDB
   * batch); across servers each part commits or fails on its own, and the call fails if any did.
   */
  async batch(operations: readonly BatchOperation[], options: WriteOptions = {}): Promise<void> {
    checkBatchEntries(operations.length, this.limits);
    const keys = operations.map((op) => this.encodeKey(op.key));
    const entries: BatchEntry[] = operations.map((op, i) => {
      if (op.type === 'put') return [BatchOpCode.put, keys[i]!, valueBytes(op.value, this.limits)];
      if (op.type === 'del') return [BatchOpCode.del, keys[i]!];
      throw new TypeError(`batch operation ${i} has unknown type ${String((op as { type: unknown }).type)}`);
    });
    const db = options.db ?? DEFAULT_DATABASE;
    await this.perServer(keys, (rank, indices) =>
      this.call(rank, 'batch', { db, ops: indices.map((i) => entries[i]!), ...syncOf(options) }, options));
  }

  /** Many puts, one message per server (atomic within each server). */
  async putMany(entries: ReadonlyArray<readonly [KeyInput, BytesInput]>, options: WriteOptions = {}): Promise<void> {
    checkBatchEntries(entries.length, this.limits);
    const keys = entries.map(([key]) => this.encodeKey(key));
    const values = entries.map(([, value]) => valueBytes(value, this.limits));
    const db = options.db ?? DEFAULT_DATABASE;
    const partBytesMax = this.limits.putManyPartBytesMax;
    await this.perServer(keys, (rank, indices) => sendPutMany((op, body) => this.call(rank, op, body, options), db,
      indices.map((i) => keys[i]!), indices.map((i) => values[i]!), options.sync, partBytesMax));
  }

  /** Values in the caller's order; undefined for keys not stored. */
  async getMany(keyInputs: readonly KeyInput[], options: RequestOptions = {}): Promise<Array<Buffer | undefined>> {
    checkBatchEntries(keyInputs.length, this.limits);
    const keys = keyInputs.map((key) => this.encodeKey(key));
    const db = options.db ?? DEFAULT_DATABASE;
    const out = new Array<Buffer | undefined>(keys.length);
    await this.perServer(keys, async (rank, indices) => {
      const reply = await this.call(rank, 'getMany', { db, packedKeys: packList(indices.map((i) => keys[i]!)) }, options);
      // On the wire a PackedListChunks reply arrives as bytes.
      const values = reply instanceof Uint8Array ? unpackReply(reply, indices.length) : reply as Array<Uint8Array | null>;
      for (let j = 0; j < indices.length; j++) {
        const value = values[j];
        out[indices[j]!] = value === null || value === undefined ? undefined : asBuffer(value);
      }
    });
    return out;
  }

  async existsMany(keyInputs: readonly KeyInput[], options: RequestOptions = {}): Promise<boolean[]> {
    checkBatchEntries(keyInputs.length, this.limits);
    const keys = keyInputs.map((key) => this.encodeKey(key));
    const db = options.db ?? DEFAULT_DATABASE;
    const out = new Array<boolean>(keys.length).fill(false);
    await this.perServer(keys, async (rank, indices) => {
      const found = await this.call(rank, 'existsMany', { db, keys: indices.map((i) => keys[i]!) }, options);
      for (let j = 0; j < indices.length; j++) out[indices[j]!] = found[j] === true;
    });
    return out;
  }

  async delMany(keyInputs: readonly KeyInput[], options: WriteOptions = {}): Promise<void> {
    checkBatchEntries(keyInputs.length, this.limits);
    const keys = keyInputs.map((key) => this.encodeKey(key));
    const db = options.db ?? DEFAULT_DATABASE;
    await this.perServer(keys, (rank, indices) =>
      this.call(rank, 'delMany', { db, keys: indices.map((i) => keys[i]!), ...syncOf(options) }, options));
  }

  /** The smallest key stored (with its value), or undefined when the database is empty. */
  first(options: RequestOptions = {}): Promise<[KeyValue, Buffer] | undefined> {
    return this.cursorStep('first', undefined, false, options);
  }

  /** The largest key stored (with its value), or undefined when the database is empty. */
  last(options: RequestOptions = {}): Promise<[KeyValue, Buffer] | undefined> {
    return this.cursorStep('last', undefined, true, options);
  }

  /** The smallest key strictly greater than `key`, whether or not `key` is stored. */
  next(key: KeyInput, options: RequestOptions = {}): Promise<[KeyValue, Buffer] | undefined> {
    return this.cursorStep('next', this.encodeKey(key), false, options);
  }

  /** The largest key strictly less than `key`, whether or not `key` is stored. */
  prev(key: KeyInput, options: RequestOptions = {}): Promise<[KeyValue, Buffer] | undefined> {
    return this.cursorStep('prev', this.encodeKey(key), true, options);
  }

  /**
   * One cursor step, correct under any partitioning and needing no collective stat flush. A
   * range-partitioned group asks the servers that may hold the answer one after another in key
   * order (usually one round trip); otherwise every server is asked for its candidate and the
   * global one (smallest, or largest with `largest`) kept.
   */
  private async cursorStep(op: 'first' | 'last' | 'next' | 'prev', key: Uint8Array | undefined, largest: boolean,
    options: RequestOptions): Promise<[KeyValue, Buffer] | undefined> {
    const db = options.db ?? DEFAULT_DATABASE;
    const ask = (rank: number): Promise<CursorReply> => (key === undefined
      ? this.call(rank, op as 'first' | 'last', { db }, options)
      : this.call(rank, op as 'next' | 'prev', { db, key }, options));
    const range: KeyRangeWire = key === undefined ? {} : largest ? { lt: key } : { gt: key };
    const inOrder = this.router.rangeInOrder(range, largest);
    if (inOrder !== undefined) {
      for (const rank of inOrder) {
        const reply = await ask(rank);
        if (reply !== null) return [this.decodeKey(asBuffer(reply[0])), asBuffer(reply[1])];
      }
      return undefined;
    }
    const replies = await Promise.all(this.router.ranks.map((rank) => ask(rank)));
    let best: [Buffer, Buffer] | undefined;
    for (const reply of replies) {
      if (reply === null) continue;
      const candidate: [Buffer, Buffer] = [asBuffer(reply[0]), asBuffer(reply[1])];
      if (best === undefined) { best = candidate; continue; }
      const order = Buffer.compare(candidate[0], best[0]);
      if (largest ? order > 0 : order < 0) best = candidate;
    }
    return best === undefined ? undefined : [this.decodeKey(best[0]), best[1]];
  }

  /**
   * Entries of a key range in global key order (descending with `reverse`), as an async
   * iterator with nextv(n), all(), seek(key) and close(). Every server is read in bounded pages
   * (the first small, later ones read ahead); a range-partitioned group's servers are read one
   * after another in key order, a hash group's are merged by key.
   */
  iterate(options: IterateOptions = {}): MergedScan {
    const range = this.rangeBounds(options);
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    if (!(limit >= 0)) throw new RangeError('limit must be >= 0');
    const db = options.db ?? DEFAULT_DATABASE;
    const callOptions: RequestOptions = {};
    if (options.timeoutMs !== undefined) callOptions.timeoutMs = options.timeoutMs;
    if (options.signal !== undefined) callOptions.signal = options.signal;
    return new MergedScan(
      (rank, request) => this.call(rank, 'scan', { db, ...request }, callOptions),
      {
        range, reverse: options.reverse === true, values: options.values !== false, limit,
        ranks: this.router.ranks,
        planner: (bounds, reverse) => this.router.rangeInOrder(bounds, reverse),
        firstPageEntries: Math.min(options.firstPageEntries ?? 64, this.limits.scanPageEntriesMax),
        pageEntries: this.limits.scanPageEntriesMax,
        decodeKey: (bytes) => this.decodeKey(bytes),
        encodeKey: (key) => this.encodeKey(key),
      });
  }

  /**
   * `n` records in key order strictly after `key` (NEXT) or, descending, strictly before it
   * (PREV), continuing onto the following servers; from the first (or last) key when `key` is
   * undefined. Fewer than `n` only at the end of the data.
   */
  async getRange(key: KeyInput | undefined, n: number, direction: 'next' | 'prev', options: RequestOptions = {}): Promise<Array<[KeyValue, Buffer]>> {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`getRange: n must be an integer >= 0, got ${String(n)}`);
    if (direction !== 'next' && direction !== 'prev') throw new TypeError(`getRange: direction must be 'next' or 'prev', got ${String(direction)}`);
    if (n === 0) return [];
    const reverse = direction === 'prev';
    const bound: RangeOptions = key === undefined ? {} : reverse ? { lt: key } : { gt: key };
    const entries = await this.iterate({ ...options, ...bound, reverse, limit: n, firstPageEntries: n }).all();
    return entries as Array<[KeyValue, Buffer]>;
  }

  /** How many keys a range holds (over every server). */
  async count(range: RangeOptions = {}, options: RequestOptions = {}): Promise<number> {
    const body = { db: options.db ?? DEFAULT_DATABASE, ...this.rangeBounds(range) };
    const counts = await Promise.all(this.router.rangeServers(body).map((rank) => this.call(rank, 'count', body, options)));
    return counts.reduce((total, n) => total + n, 0);
  }

  /** Deletes every key of a range (each server page by page); returns how many were deleted. */
  async deleteRange(range: RangeOptions = {}, options: WriteOptions = {}): Promise<number> {
    const body = { db: options.db ?? DEFAULT_DATABASE, ...this.rangeBounds(range), ...syncOf(options) };
    const counts = await Promise.all(this.router.rangeServers(body).map((rank) => this.call(rank, 'deleteRange', body, options)));
    return counts.reduce((total, n) => total + n, 0);
  }

  private rangeBounds(range: RangeOptions): KeyRangeWire {
    return encodeBounds(range, (key) => this.encodeKey(key));
  }

  /** Statistics of every server, by rank. */
  async stat(options: RequestOptions = {}): Promise<StatReply[]> {
    const body = options.db === undefined ? {} : { db: options.db };
    return Promise.all(this.router.ranks.map((rank) => this.call(rank, 'stat', body, options)));
  }

  /**
   * The smallest and largest key each server holds, by rank (what MDHIM's stat flush gathers),
   * read from the stores when asked, so never stale.
   */
  async keyBoundsByServer(options: RequestOptions = {}): Promise<ServerKeyBounds[]> {
    const db = options.db ?? DEFAULT_DATABASE;
    const decode = (reply: CursorReply): KeyValue | undefined => (reply === null ? undefined : this.decodeKey(asBuffer(reply[0])));
    return Promise.all(this.router.ranks.map(async (rank) => {
      const [min, max] = await Promise.all([this.call(rank, 'first', { db }, options), this.call(rank, 'last', { db }, options)]);
      return { rank, min: decode(min), max: decode(max) };
    }));
  }

  /**
   * Per-slice statistics of an MDHIM-slices group (what MDHIM's stat flush computes): for every
   * non-empty slice, its owner, record count and smallest and largest key, in slice order. Read
   * from the stores when asked (three small requests per non-empty slice), so never stale; at
   * most `slicesMax` slices (default 10000) per server, HPCKV_ERR_BAD_CONFIG for other schemes.
   */
  async sliceStats(options: RequestOptions & { slicesMax?: number } = {}): Promise<SliceStat[]> {
    const slices = this.router.slices();
    if (slices === undefined) {
      throw new HpckvError(ErrorCodes.BAD_CONFIG, `sliceStats needs an MDHIM slices group; this group is partitioned by ${this.router.scheme}`);
    }
    const slicesMax = options.slicesMax ?? 10_000;
    if (!Number.isSafeInteger(slicesMax) || slicesMax < 1) throw new RangeError('sliceStats: slicesMax must be an integer >= 1');
    const db = options.db ?? DEFAULT_DATABASE;
    const perServer = await Promise.all(this.router.ranks.map(async (rank) => {
      const out: SliceStat[] = [];
      let entry = await this.call(rank, 'first', { db }, options);
      while (entry !== null && out.length < slicesMax) {
        const slice = slices.sliceOf(entry[0]);
        const range = slices.sliceRange(slice);
        if (range === undefined) throw new HpckvError(ErrorCodes.INTERNAL, `slice ${slice} of a stored key has no key range`);
        const [last, records] = await Promise.all([
          range.hi === undefined ? this.call(rank, 'last', { db }, options) : this.call(rank, 'prev', { db, key: range.hi }, options),
          this.call(rank, 'count', { db, gte: range.lo, ...(range.hi === undefined ? {} : { lt: range.hi }) }, options),
        ]);
        if (last === null) throw new HpckvError(ErrorCodes.INTERNAL, `slice ${slice} lost its keys while being read`);
        out.push({ slice, rank, records, min: this.decodeKey(asBuffer(entry[0])), max: this.decodeKey(asBuffer(last[0])) });
        entry = range.hi === undefined ? null : await this.call(rank, 'next', { db, key: last[0] }, options);
      }
      return out;
    }));
    return perServer.flat().sort((a, b) => (a.slice < b.slice ? -1 : a.slice > b.slice ? 1 : 0));
  }

  /** Asks every server to drain and exit (what sdsdkv_destroy and `hpckv launch` do). */
  async shutdownServers(options: RequestOptions = {}): Promise<void> {
    await Promise.all(this.router.ranks.map((rank) => this.call(rank, 'shutdown', {}, options)));
  }

  /**
   * Runs `send` once per server that owns any of the keys, all in parallel. Waits for every part
   * before failing, so a caller never sees an error while parts of its call are still running.
   */
  private async perServer(keys: readonly Uint8Array[], send: (rank: number, indices: number[]) => Promise<unknown>): Promise<void> {
    const byServer = this.router.byServer(keys);
    const parts: Array<Promise<unknown>> = [];
    byServer.forEach((indices, rank) => { if (indices.length > 0) parts.push(send(rank, indices)); });
    await allParts(parts);
  }

  /**
   * Creates a secondary index named `name` (or opens it, when one of that name and definition
   * exists): see client/secondary-index.ts and README "Secondary indexes".
   */
  async createIndex(name: string, options: CreateIndexOptions, callOptions: RequestOptions = {}): Promise<SecondaryIndex> {
    const index = await SecondaryIndex.create(this.indexHost(), name, options, callOptions);
    this.indexes.set(name, index);
    return index;
  }

  /** Opens an existing secondary index by name (HPCKV_ERR_UNKNOWN_INDEX when there is none). */
  async index(name: string, options: OpenIndexOptions = {}): Promise<SecondaryIndex> {
    const index = await SecondaryIndex.open(this.indexHost(), name, options);
    this.indexes.set(name, index);
    return index;
  }

  /**
   * Writes the record `key` = `value` through several indexes of one primary database at once,
   * `keysByIndex` naming each index and the record's secondary keys under it, so the record is
   * live in all of them (a write through one index alone leaves it stale in the others). See
   * `SecondaryIndex.write` for the steps and errors; an unknown name is HPCKV_ERR_UNKNOWN_INDEX.
   */
  async putIndexed(key: KeyInput, value: BytesInput, keysByIndex: Readonly<Record<string, readonly KeyValue[]>>, options: WriteOptions = {}): Promise<void> {
    if (typeof keysByIndex !== 'object' || keysByIndex === null || Array.isArray(keysByIndex)) {
      throw new TypeError('putIndexed needs { indexName: secondaryKeys[] }');
    }
    const names = Object.keys(keysByIndex);
    const indexes = await this.namedIndexes(names, options);
    await SecondaryIndex.write(key, value, indexes.map((index, i) => ({ index, secondaryKeys: keysByIndex[names[i]!]! })), options);
  }

  /** Deletes the record `key` and its entries in the named indexes (of one primary database). */
  async delIndexed(key: KeyInput, indexNames: readonly string[], options: WriteOptions = {}): Promise<void> {
    if (!Array.isArray(indexNames)) throw new TypeError('delIndexed needs an array of index names');
    const indexes = await this.namedIndexes(indexNames, options);
    await SecondaryIndex.write(key, null, indexes.map((index) => ({ index, secondaryKeys: [] })), options);
  }

  /** Indexes by name, from those this client created or opened, else opened from their catalog (definitions never change). */
  private namedIndexes(names: readonly string[], options: RequestOptions): Promise<SecondaryIndex[]> {
    const call: RequestOptions = {};
    if (options.timeoutMs !== undefined) call.timeoutMs = options.timeoutMs;
    if (options.signal !== undefined) call.signal = options.signal;
    return Promise.all(names.map((name) => this.indexes.get(name) ?? this.index(name, call)));
  }

  private indexHost(): IndexHost {
    return {
      group: this.group,
      limits: this.limits,
      call: (rank, op, body, options) => this.call(rank, op, body, options),
      encodeKey: (key) => this.encodeKey(key),
      decodeKey: (bytes) => this.decodeKey(bytes),
      primaryServerFor: (key) => this.router.serverFor(key),
    };
  }

  async close(): Promise<void> {
    this.registry.clear();
    await this.connections.close();
  }
}

function unpackReply(reply: Uint8Array, expected: number): Array<Buffer | null> {
  const values = unpackList(reply, 'getMany reply', expected);
  if (values.length !== expected) {
    throw new HpckvError(ErrorCodes.PROTOCOL, `getMany reply has ${values.length} values for ${expected} keys`);
  }
  return values;
}

function toVoid(): void {
  return undefined;
}

function toBufferOrUndefined(value: Uint8Array | null): Buffer | undefined {
  return value === null ? undefined : asBuffer(value);
}

function syncOf(options: WriteOptions): { sync?: boolean } {
  return options.sync === undefined ? {} : { sync: options.sync };
}

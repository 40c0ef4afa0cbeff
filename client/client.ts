import type { Communicator } from '../core/comm/communicator.js';
import { readGroupFile, type GroupFile } from '../core/group-file.js';
import type { Limits } from '../core/limits.js';
import type { StatReply } from '../core/protocol/messages.js';
import type { KeyValue } from '../core/keys/key-type.js';
import type { RegionAccess, RegionDescriptor } from '../core/regions/region-descriptor.js';
import type { ProcedureSpec } from '../core/procedure-spec.js';
import type { BytesInput } from './bytes.js';
import { ClientCore } from './core/client-core.js';
import { openSettings, shareGroup } from './core/opening.js';
import type {
  BatchOperation, ClientOptions, ExecuteOptions, IterateOptions, KeyInput, RangeOptions, RequestOptions, ServerKeyBounds, ServerStat, SliceStat, WriteOptions,
} from './core/options.js';
import { BackChannel } from './back-channel.js';
import * as bulk from './bulk-ops.js';
import * as groupCalls from './group-calls.js';
import type { MergedScan } from './merged-scan.js';
import { OpenedIndexes } from './opened-indexes.js';
import type { ProcedureHandle, ProcedureMatches } from './procedure-handle.js';
import { startProcedure } from './procedure-start.js';
import * as ranges from './range-ops.js';
import type { RegionHandle } from './region-handle.js';
import type { RegionCallOptions, RegionGetOptions, RegionOps, RegionPutOptions, RegionScanResult } from './region-ops.js';
import { RegionRegistry, type RegionMemory } from './region-registry.js';
import type { CreateIndexOptions, OpenIndexOptions, SecondaryIndex } from './secondary-index.js';
import { ServerConnections } from './server-connections.js';
import * as singleKey from './single-key-ops.js';

export type {
  BatchOperation, ClientOptions, ExecuteOptions, IterateOptions, KeyInput, RangeOptions, RequestOptions, ServerKeyBounds, ServerStat, SliceStat, WriteOptions,
} from './core/options.js';

/**
 * The native hpckv client. Routes every key to its server with the group's partitioner, keeps
 * one pipelined connection per server, splits multi-key calls into one message per server and
 * puts the answers back in the caller's order.
 *
 * A facade: each call forwards to its feature module over the client core (client/core/).
 */
export class Client {
  readonly group: GroupFile;
  readonly limits: Limits;
  private readonly core: ClientCore;
  private readonly connections: ServerConnections;
  private readonly backChannel = new BackChannel();
  private readonly registry: RegionRegistry;
  private readonly regionOps: RegionOps;
  /** Secondary indexes created or opened by this client, by name (for putIndexed and delIndexed). */
  private readonly indexes: OpenedIndexes;

  private constructor(group: GroupFile, limits: Limits, authSecret: Uint8Array | undefined) {
    this.group = group;
    this.limits = limits;
    this.registry = this.backChannel.registry;
    this.connections = new ServerConnections(group, limits, (connection, rank) => this.backChannel.serve(connection, rank), authSecret);
    const core = this.core = new ClientCore(group, limits, this.connections);
    this.indexes = new OpenedIndexes(core);
    this.regionOps = this.backChannel.regionOps(core);
  }

  /**
   * Registers memory for client-memory operations and returns its descriptor (serializable: it
   * may be handed to another process, whose operations the servers then serve from this one's
   * memory). Every server is told where to reach it before this resolves.
   */
  async registerRegion(memory: RegionMemory, access: RegionAccess = 'rw'): Promise<RegionDescriptor> {
    const descriptor = this.registry.register(memory, access);
    await this.backChannel.attachOwner(this.core);
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

  /**
   * Values of `keys` pushed by their servers into a region (packed pairs, or slots); a handle once
   * accepted, whose result is the number of keys found (missing keys are in the layout, not counted).
   */
  getIntoRegion(keys: readonly KeyInput[], descriptor: RegionDescriptor, options: RegionGetOptions = {}): Promise<RegionHandle<number>> {
    return this.regionOps.getIntoRegion(keys.map((key) => this.core.encodeKey(key)), descriptor, options);
  }

  /** A range's pairs pushed into a region in global key order (packed pairs), with a resume key when it does not fit. */
  scanIntoRegion(descriptor: RegionDescriptor, range: RangeOptions & { reverse?: boolean; limit?: number } = {}, options: RegionCallOptions = {}): Promise<RegionHandle<RegionScanResult>> {
    const { reverse, limit } = range;
    return this.regionOps.scanIntoRegion(descriptor, this.core.rangeBounds(range), {
      ...options, ...(reverse === undefined ? {} : { reverse }), ...(limit === undefined ? {} : { limit }),
    });
  }

  /**
   * Runs a procedure (filter, map or reduce; see core/procedure-spec.ts) next to the data on
   * every server that holds part of the range, in the servers' sandboxes. Resolves with a handle
   * once every one of them accepted its job; `handle.wait()` gives, by the spec's kind: a
   * filter's or map's [key, value] matches in key order, or with `into` what was written into
   * the region; a reduce's combined accumulator (`A`, `init(args)` when no server holds the
   * range). `handle.poll()` gives the progress, `handle.cancel()` stops it.
   */
  execute<A = unknown>(spec: ProcedureSpec<'reduce'>, options?: ExecuteOptions & { into?: undefined }): Promise<ProcedureHandle<A>>;
  execute(spec: ProcedureSpec<'filter' | 'map'>, options: ExecuteOptions & { into: RegionDescriptor }): Promise<ProcedureHandle<RegionScanResult>>;
  execute(spec: ProcedureSpec<'filter' | 'map'>, options?: ExecuteOptions & { into?: undefined }): Promise<ProcedureHandle<ProcedureMatches>>;
  execute(spec: ProcedureSpec, options?: ExecuteOptions): Promise<ProcedureHandle>;
  execute(spec: ProcedureSpec, options: ExecuteOptions = {}): Promise<ProcedureHandle> {
    return startProcedure(this.core, this.backChannel.procedureNotices, this.regionOps, spec, options);
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
    return Client.fromGroup(await shareGroup(comm, root, group), options);
  }

  static async fromGroup(group: GroupFile, options: ClientOptions = {}): Promise<Client> {
    const { limits, authSecret } = openSettings(group, options);
    return new Client(group, limits, authSecret);
  }

  get serverCount(): number {
    return this.group.servers.length;
  }

  /**
   * A key as the store holds it: for a `bytes` store the bytes (a string as UTF-8), for a typed
   * store the order-preserving encoding of a value of its key type (HPCKV_ERR_BAD_KEY otherwise).
   */
  encodeKey(key: KeyInput): Uint8Array {
    return this.core.encodeKey(key);
  }

  /** The value of a key read back (cursors and scans return keys as stored bytes). */
  decodeKey(bytes: Uint8Array): KeyValue {
    return this.core.decodeKey(bytes);
  }

  /** Rank of the server that owns a key. */
  serverFor(key: KeyInput): number {
    return this.core.router.serverFor(this.core.encodeKey(key));
  }

  // put and get are not async functions: that saves a promise and a turn per call; a bad key or
  // value still rejects the returned promise rather than throwing.
  put(key: KeyInput, value: BytesInput, options: WriteOptions = {}): Promise<void> {
    return singleKey.put(this.core, key, value, options);
  }

  /** The value, or undefined when the key is not stored. */
  get(key: KeyInput, options: RequestOptions = {}): Promise<Buffer | undefined> {
    return singleKey.get(this.core, key, options);
  }

  del(key: KeyInput, options: WriteOptions = {}): Promise<void> {
    return singleKey.del(this.core, key, options);
  }

  exists(key: KeyInput, options: RequestOptions = {}): Promise<boolean> {
    return singleKey.exists(this.core, key, options);
  }

  /** Size of the stored value in bytes, or undefined when the key is not stored. */
  length(key: KeyInput, options: RequestOptions = {}): Promise<number | undefined> {
    return singleKey.length(this.core, key, options);
  }

  /** Write-once put: throws HPCKV_ERR_KEY_EXISTS (and writes nothing) when the key is stored. */
  putIfAbsent(key: KeyInput, value: BytesInput, options: WriteOptions = {}): Promise<void> {
    return singleKey.putIfAbsent(this.core, key, value, options);
  }

  /** Appends to the stored value (MDHIM append mode), creating it if absent; returns the new length. */
  append(key: KeyInput, value: BytesInput, options: WriteOptions = {}): Promise<number> {
    return singleKey.append(this.core, key, value, options);
  }

  /**
   * Mixed puts and deletes, one message per server. Atomic within each server (one LevelDB
   * batch); across servers each part commits or fails on its own, and the call fails if any did.
   */
  batch(operations: readonly BatchOperation[], options: WriteOptions = {}): Promise<void> {
    return bulk.batch(this.core, operations, options);
  }

  /** Many puts, one message per server (atomic within each server). */
  putMany(entries: ReadonlyArray<readonly [KeyInput, BytesInput]>, options: WriteOptions = {}): Promise<void> {
    return bulk.putMany(this.core, entries, options);
  }

  /** Values in the caller's order; undefined for keys not stored. */
  getMany(keyInputs: readonly KeyInput[], options: RequestOptions = {}): Promise<Array<Buffer | undefined>> {
    return bulk.getMany(this.core, keyInputs, options);
  }

  existsMany(keyInputs: readonly KeyInput[], options: RequestOptions = {}): Promise<boolean[]> {
    return bulk.existsMany(this.core, keyInputs, options);
  }

  delMany(keyInputs: readonly KeyInput[], options: WriteOptions = {}): Promise<void> {
    return bulk.delMany(this.core, keyInputs, options);
  }

  /** The smallest key stored (with its value), or undefined when the database is empty. */
  first(options: RequestOptions = {}): Promise<[KeyValue, Buffer] | undefined> {
    return ranges.cursorStep(this.core, 'first', undefined, false, options);
  }

  /** The largest key stored (with its value), or undefined when the database is empty. */
  last(options: RequestOptions = {}): Promise<[KeyValue, Buffer] | undefined> {
    return ranges.cursorStep(this.core, 'last', undefined, true, options);
  }

  /** The smallest key strictly greater than `key`, whether or not `key` is stored. */
  next(key: KeyInput, options: RequestOptions = {}): Promise<[KeyValue, Buffer] | undefined> {
    return ranges.cursorStep(this.core, 'next', this.core.encodeKey(key), false, options);
  }

  /** The largest key strictly less than `key`, whether or not `key` is stored. */
  prev(key: KeyInput, options: RequestOptions = {}): Promise<[KeyValue, Buffer] | undefined> {
    return ranges.cursorStep(this.core, 'prev', this.core.encodeKey(key), true, options);
  }

  /**
   * Entries of a key range in global key order (descending with `reverse`), as an async
   * iterator with nextv(n), all(), seek(key) and close(): [key, value] pairs, or keys alone with
   * `values: false`. Every server is read in bounded pages (the first small, later ones read
   * ahead); a range-partitioned group's servers are read one after another in key order, a hash
   * group's are merged by key.
   */
  iterate(options: IterateOptions & { values: false }): MergedScan<KeyValue>;
  iterate(options?: IterateOptions & { values?: true }): MergedScan<[KeyValue, Buffer]>;
  iterate(options: IterateOptions): MergedScan<ranges.ScanEntry>;
  iterate(options: IterateOptions = {}): MergedScan<ranges.ScanEntry> {
    return ranges.iterate(this.core, options);
  }

  /**
   * `n` records in key order strictly after `key` (NEXT) or, descending, strictly before it
   * (PREV), continuing onto the following servers; from the first (or last) key when `key` is
   * undefined. Fewer than `n` only at the end of the data.
   */
  getRange(key: KeyInput | undefined, n: number, direction: 'next' | 'prev', options: RequestOptions = {}): Promise<Array<[KeyValue, Buffer]>> {
    return ranges.getRange(this.core, key, n, direction, options);
  }

  /** How many keys a range holds (over every server). */
  count(range: RangeOptions = {}, options: RequestOptions = {}): Promise<number> {
    return ranges.count(this.core, range, options);
  }

  /** Deletes every key of a range (each server page by page); returns how many were deleted. */
  deleteRange(range: RangeOptions = {}, options: WriteOptions = {}): Promise<number> {
    return ranges.deleteRange(this.core, range, options);
  }

  /** Statistics of every server, by rank; fails as a whole when one server does (see statEach). */
  stat(options: RequestOptions = {}): Promise<StatReply[]> {
    return groupCalls.stat(this.core, options);
  }

  /** Every server's `{ rank, stat }`, or `{ rank, error }` for one that is down or failed: the others still answer. */
  statEach(options: RequestOptions = {}): Promise<ServerStat[]> {
    return groupCalls.statEach(this.core, options);
  }

  /**
   * The smallest and largest key each server holds, by rank (what MDHIM's stat flush gathers),
   * read from the stores when asked, so never stale.
   */
  keyBoundsByServer(options: RequestOptions = {}): Promise<ServerKeyBounds[]> {
    return groupCalls.keyBoundsByServer(this.core, options);
  }

  /**
   * Per-slice statistics of an MDHIM-slices group (what MDHIM's stat flush computes): for every
   * non-empty slice, its owner, record count and smallest and largest key, in slice order. Read
   * from the stores when asked (three small requests per non-empty slice), so never stale; at
   * most `slicesMax` slices (default 10000) per server, HPCKV_ERR_BAD_CONFIG for other schemes.
   */
  sliceStats(options: RequestOptions & { slicesMax?: number } = {}): Promise<SliceStat[]> {
    return groupCalls.sliceStats(this.core, options);
  }

  /** Asks every server to drain and exit (what sdsdkv_destroy and `hpckv launch` do). */
  shutdownServers(options: RequestOptions = {}): Promise<void> {
    return groupCalls.shutdownServers(this.core, options);
  }

  /**
   * Creates a secondary index named `name` (or opens it, when one of that name and definition
   * exists): see client/secondary-index.ts and README "Secondary indexes".
   */
  createIndex(name: string, options: CreateIndexOptions, callOptions: RequestOptions = {}): Promise<SecondaryIndex> {
    return this.indexes.create(name, options, callOptions);
  }

  /** Opens an existing secondary index by name (HPCKV_ERR_UNKNOWN_INDEX when there is none). */
  index(name: string, options: OpenIndexOptions = {}): Promise<SecondaryIndex> {
    return this.indexes.open(name, options);
  }

  /**
   * Writes the record `key` = `value` through several indexes of one primary database at once,
   * `keysByIndex` naming each index and the record's secondary keys under it, so the record is
   * live in all of them (a write through one index alone leaves it stale in the others). See
   * `SecondaryIndex.write` for the steps and errors; an unknown name is HPCKV_ERR_UNKNOWN_INDEX.
   */
  putIndexed(key: KeyInput, value: BytesInput, keysByIndex: Readonly<Record<string, readonly KeyValue[]>>, options: WriteOptions = {}): Promise<void> {
    return this.indexes.putIndexed(key, value, keysByIndex, options);
  }

  /** Deletes the record `key` and its entries in the named indexes (of one primary database). */
  delIndexed(key: KeyInput, indexNames: readonly string[], options: WriteOptions = {}): Promise<void> {
    return this.indexes.delIndexed(key, indexNames, options);
  }

  async close(): Promise<void> {
    this.registry.clear();
    await this.connections.close();
  }
}

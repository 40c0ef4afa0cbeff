import type { PackedListChunks } from '../wire/packed-list.js';
import type {
  ProcExecuteRequest, ProcJobRequest, ProcPollReply, ProcRegisterRequest, ProcResultsReply, ProcStageReply, ProcStageRequest,
} from './procedure-messages.js';
import type {
  RegionAccepted, RegionAttachRequest, RegionPushRequest, RegionPutRequest, RegionReleaseRequest, RegionStageReply,
  RegionStageRequest, RegionTestHoldRequest,
} from './region-messages.js';
import type { DbRequest, KeyRangeWire, WriteOptionsWire } from './request-basics.js';

export type { DbRequest, KeyRangeWire, WriteOptionsWire };

/**
 * The wire shapes of the data-plane operations between clients and servers: request bodies and
 * replies, keyed by op name in `OpTable`. Keys and values travel as raw bytes (msgpack bin). The
 * op table (op-table.ts) declares each op's service, validator and retry rule under the same
 * names; client and server both import these types.
 */

/** Opcode of each batch entry. */
export const BatchOpCode = { put: 0, del: 1 } as const;

/** One entry of a mixed batch: [0, key, value] puts, [1, key] deletes. */
export type BatchEntry = [typeof BatchOpCode.put, Uint8Array, Uint8Array] | [typeof BatchOpCode.del, Uint8Array];

export interface KeyRequest extends DbRequest {
  key: Uint8Array;
}

export interface PutRequest extends KeyRequest, WriteOptionsWire {
  value: Uint8Array;
}

export interface KeysRequest extends DbRequest {
  keys: Uint8Array[];
}

export interface PutManyRequest extends DbRequest, WriteOptionsWire {
  keys: Uint8Array[];
  values: Uint8Array[];
}

/** Bulk bodies with packed lists (core/wire/packed-list.ts): one copy instead of msgpack per item. */
export interface PackedKeysRequest extends DbRequest {
  packedKeys: Uint8Array;
}

export interface PackedPutManyRequest extends DbRequest, WriteOptionsWire {
  packedKeys: Uint8Array;
  /** Received as bytes; a sender may pass PackedListChunks, which the frame writes without copying. */
  packedValues: Uint8Array | PackedListChunks;
}

/**
 * One part of a putMany too large for one message (`putManyPartBytesMax`): the server validates
 * and stages each part as it arrives and commits all parts of `staging` as one atomic batch when
 * the part with `last` arrives. Every part carries the same `db` and `sync`.
 */
export interface PutManyPartRequest extends PackedPutManyRequest {
  /** Chosen by the client, unique among the stagings open on its connection. */
  staging: number;
  /** 0, 1, 2, ... in order: a part after the first needs its staging open at exactly that part. */
  part: number;
  last: boolean;
}

export interface ScanRequest extends DbRequest, KeyRangeWire {
  /** Descending key order. */
  reverse?: boolean;
  /** Most entries in this page (lowered to the server's scanPageEntriesMax). */
  limit?: number;
  /** Most key + value bytes in this page (lowered to the server's scanPageBytesMax). */
  pageBytes?: number;
  /** Return values (default true); keys always come back (the client resumes after the last one). */
  values?: boolean;
}

export interface ScanReply {
  /** Packed list of keys (core/wire/packed-list.ts), in scan order. */
  keys: Uint8Array | PackedListChunks;
  /** Packed list of values, or null when values were not asked for. */
  values: Uint8Array | PackedListChunks | null;
  /** True when this server holds nothing more in the range after this page. */
  done: boolean;
}

/** A record found by a cursor step, or null at the end of the data. */
export type CursorReply = [Uint8Array, Uint8Array] | null;

export interface BatchRequest extends DbRequest, WriteOptionsWire {
  ops: BatchEntry[];
}

export interface DatabaseStats {
  /** Records stored. */
  records: number;
  /** Sum of key lengths, in bytes. */
  keyBytes: number;
  /** Sum of value lengths, in bytes. */
  valueBytes: number;
}

/** How a server came to know a database's stats and key filter when it opened the store. */
export interface DatabaseStartup {
  /**
   * 'loaded': read from the summary the store's last clean close wrote, without reading a record.
   * 'new': the open created the store, so there was nothing to count. Otherwise they were counted
   * from the records in the background while the server served, and this says why the summary
   * was not used: 'missing' (the last run did not close cleanly: a crash, kill -9), 'corrupt'
   * (damaged), 'version' (another format or byte order), 'stale' (it describes another state of
   * the store).
   */
  summary: 'loaded' | 'new' | 'missing' | 'corrupt' | 'version' | 'stale';
  /** Milliseconds from the start of the open until the stats were exact (the summary's header read, or the count done). */
  statsReadyMs: number;
  /**
   * Milliseconds from the start of the open until the key filter held every stored key (the
   * summary's filter read, or the count done), -1 until then: writes read their keys' old values
   * meanwhile.
   */
  keysReadyMs: number;
}

export interface StatReply {
  rank: number;
  /** Milliseconds since the server started. */
  uptimeMs: number;
  /** Requests answered since the server started. */
  requests: number;
  /** Exact stats of each database: a server still counting a store (after a crash) answers once the count is done. */
  databases: Record<string, DatabaseStats>;
  /** How each database in `databases` got its stats when the server opened it. */
  startup: Record<string, DatabaseStartup>;
}

export interface HelloReply {
  rank: number;
  service: string;
  epoch: number;
  databases: string[];
}

/** One index a record's write maintains (see core/index-entry-key.ts for the layout). */
export interface IndexWritePart {
  /** Database holding the index's entries and back-references (one of this server's). */
  indexDb: string;
  /** The index's namespace: UTF-8 of its name, then 0x00. */
  index: Uint8Array;
  /** Local index: this server also replaces the record's entries, in one batch with its back-reference. */
  local: boolean;
  /** Encoded secondary keys of the record under this index (none: the record has no entry). */
  secondaryKeys: Uint8Array[];
}

export interface IndexWriteRequest extends KeyRequest, WriteOptionsWire {
  /** The record's new value, or null to delete the record. */
  value: Uint8Array | null;
  /** WRITE_ID_BYTES bytes, unique per indexed write (the caller picks it at random). */
  writeId: Uint8Array;
  indexes: IndexWritePart[];
  /**
   * Backfill: apply only if the record's stored value is still `value` (which is then not written
   * again, so the record stays live in its other indexes); reply `applied: false` otherwise.
   */
  ifStored?: boolean;
}

/** What the write replaced, per index part: the previous write id and secondary keys, or null. */
export interface IndexWriteReply {
  /** False when an `ifStored` write found another value (or none) and changed nothing. */
  applied: boolean;
  previous: Array<{ writeId: Uint8Array; secondaryKeys: Uint8Array[] } | null>;
}

export interface IndexScopeRequest extends DbRequest {
  /** Database of the index; `db` is the primary database. */
  indexDb: string;
  /** The index's namespace: UTF-8 of its name, then 0x00. */
  index: Uint8Array;
}

export interface IndexLookupRequest extends IndexScopeRequest, KeyRangeWire {
  /** Most entries scanned in this page (lowered to scanPageEntriesMax). */
  limit?: number;
  /** Most entry key + value bytes in this page (lowered to scanPageBytesMax). */
  pageBytes?: number;
}

export interface IndexLookupReply {
  /** Packed entry keys scanned, in key order (the client resumes after the last). */
  keys: Uint8Array | PackedListChunks;
  /** Packed primary values, one per entry key; absent for an entry that is not live (stale). */
  values: Uint8Array | PackedListChunks;
  done: boolean;
}

export interface IndexGetRequest extends IndexScopeRequest {
  /** Packed primary keys. */
  packedKeys: Uint8Array;
  /** Packed write ids, one per key (from the index entries that named the keys). */
  packedWriteIds: Uint8Array;
}

/** Request body and reply type of every operation. */
export interface OpTable {
  /** Liveness and identity check. */
  hello: { req: Record<string, never>; res: HelloReply };
  put: { req: PutRequest; res: null };
  /** Value bytes, or null when the key is not stored. */
  get: { req: KeyRequest; res: Uint8Array | null };
  /** Deleting a missing key is not an error. */
  del: { req: KeyRequest & WriteOptionsWire; res: null };
  exists: { req: KeyRequest; res: boolean };
  /** Value size in bytes, or null when the key is not stored. */
  length: { req: KeyRequest; res: number | null };
  /** Mixed puts and deletes, applied atomically by this server. */
  batch: { req: BatchRequest; res: null };
  /** Many puts, applied atomically by this server (keys/values as arrays or as packed lists). */
  putMany: { req: PutManyRequest | PackedPutManyRequest; res: null };
  /** A part of a putMany staged as it arrives (answered once staged), committed with its last part (answered once committed). */
  putManyPart: { req: PutManyPartRequest; res: null };
  /**
   * Values in request order; null for keys not stored. A request with `packedKeys` gets a packed
   * list back (absent values marked), see core/wire/packed-list.ts.
   */
  getMany: { req: KeysRequest | PackedKeysRequest; res: Array<Uint8Array | null> | Uint8Array | PackedListChunks };
  delMany: { req: KeysRequest & WriteOptionsWire; res: null };
  existsMany: { req: KeysRequest; res: boolean[] };
  /** Write-once put: HPCKV_ERR_KEY_EXISTS when the key is already stored. */
  putIfAbsent: { req: PutRequest; res: null };
  /** Appends the bytes to the stored value (creating it); replies with the new value length. */
  append: { req: PutRequest; res: number };
  /** Smallest key stored, with its value. */
  first: { req: DbRequest; res: CursorReply };
  /** Largest key stored, with its value. */
  last: { req: DbRequest; res: CursorReply };
  /** Smallest key strictly greater than `key`, stored or not. */
  next: { req: KeyRequest; res: CursorReply };
  /** Largest key strictly less than `key`, stored or not. */
  prev: { req: KeyRequest; res: CursorReply };
  /** One bounded page of a range, in key order. */
  scan: { req: ScanRequest; res: ScanReply };
  /** Keys stored in a range on this server. */
  count: { req: DbRequest & KeyRangeWire; res: number };
  /** Deletes the keys of a range on this server (page by page); replies how many it deleted. */
  deleteRange: { req: DbRequest & KeyRangeWire & WriteOptionsWire; res: number };
  /**
   * Writes (or deletes) a record and its back-references (and, for local indexes, its entries)
   * as one step per key: indexed writes of one key are serialized by this server.
   */
  indexWrite: { req: IndexWriteRequest; res: IndexWriteReply };
  /** One page of a local index's entries, each with its primary value when the entry is live. */
  indexLookup: { req: IndexLookupRequest; res: IndexLookupReply };
  /**
   * Values of records named by index entries, null where the entry is not live. Answers the
   * first keys only (a packed list shorter than the request) when their values reach
   * scanPageBytesMax; the client asks again for the rest.
   */
  indexGet: { req: IndexGetRequest; res: Uint8Array | PackedListChunks };
  /** This connection serves the regions of an owner (core/protocol/region-messages.ts). */
  regionAttach: { req: RegionAttachRequest; res: null };
  /** Pulls packed pairs from a region and stores them atomically; answered once accepted. */
  regionPut: { req: RegionPutRequest; res: RegionAccepted };
  /** Reads and holds values (get) or a range's entries (scan) for a push; answers their sizes. */
  regionStage: { req: RegionStageRequest; res: RegionStageReply };
  /** Pushes staged values into a region at the given offsets; answered once they are there (records pushed). */
  regionPush: { req: RegionPushRequest; res: number };
  /** Drops staged results. */
  regionRelease: { req: RegionReleaseRequest; res: null };
  /** Test hook (HPCKV_TEST_HOOKS=1 only): holds or releases every region transfer. */
  regionTestHold: { req: RegionTestHoldRequest; res: null };
  /** Compiles a procedure (core/protocol/procedure-messages.ts); answers its hash. */
  procRegister: { req: ProcRegisterRequest; res: { hash: string } };
  /** Starts a job over this server's part of a range; answered once accepted. */
  procExecute: { req: ProcExecuteRequest; res: { job: number } };
  /** A job's state and progress (never waits). */
  procPoll: { req: ProcJobRequest; res: ProcPollReply };
  /** A finished job's results; the job is then forgotten. */
  procResults: { req: ProcJobRequest; res: ProcResultsReply };
  /** Stops a job between batches. */
  /** Stages a finished filter or map job's results for a regionPush into a client region (and forgets the job). */
  procStage: { req: ProcStageRequest; res: ProcStageReply };
  procCancel: { req: ProcJobRequest; res: null };
  /** This connection gets the job's procDone (a client back after losing its connection); sent at once if it ended. */
  procWatch: { req: ProcJobRequest; res: null };
  /** Per-database statistics; all databases when `db` is omitted. */
  stat: { req: { db?: string }; res: StatReply };
  /** Asks the server to drain in-flight requests, close its stores and exit. */
  shutdown: { req: Record<string, never>; res: null };
}

export type OpName = keyof OpTable;
export type OpRequest<O extends OpName> = OpTable[O]['req'];
export type OpReply<O extends OpName> = OpTable[O]['res'];

export const DEFAULT_DATABASE = 'default';

/** Database names: what a directory name can safely be on every file system. */
export const DATABASE_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

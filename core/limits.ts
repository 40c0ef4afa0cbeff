import { ErrorCodes, HpckvError } from './errors.js';

/**
 * Every limit of hpckv, each named with its unit. One object is resolved at start-up (defaults
 * overlaid with the group's and the caller's values), checked, and then enforced with typed
 * errors. Documented in docs/limits.md; keep both in step.
 */
export interface Limits {
  /** Largest key, in bytes (keys are never empty). */
  keyBytesMax: number;
  /** Largest value, in bytes. */
  valueBytesMax: number;
  /** Most entries in one batch or bulk request. */
  batchEntriesMax: number;
  /**
   * Most bytes (keys + values) of writes a server commits to one database as one LevelDB batch
   * (group commit: writes that arrive together share a batch). A single request above it is a
   * group of its own, never split.
   */
  writeGroupBytesMax: number;
  /**
   * Largest part of a putMany for one server, in bytes of keys and values: a larger one travels
   * as parts the server validates and stages as they arrive, committed together with the last
   * (so the server works while the rest is still in transit, and never holds more than one part's
   * frame). 0 sends it as one message. 8 MiB: on one machine, parts measured 10-20% slower than one
   * message for a 4 MiB putMany (1000 × 4 KiB) and even at 16 MiB, so only larger calls use them.
   */
  putManyPartBytesMax: number;
  /** Most putMany stagings (parts received, last part not yet) one connection may hold open at a server. */
  putManyStagingsPerConnectionMax: number;
  /** Largest frame (one encoded rpc message, without its 4-byte length prefix), in bytes. */
  frameBytesMax: number;
  /** Most requests one connection may have outstanding at a server. Clients queue beyond it. */
  inFlightRequestsPerConnectionMax: number;
  /** Most client connections one server accepts at once. */
  connectionsPerServerMax: number;
  /**
   * Bytes of replies a server holds for one connection before it stops reading that
   * connection's requests (until the client has read them): bounds a server's memory against
   * a client that sends but does not read.
   */
  replyBacklogBytesMax: number;
  /** Most bytes (keys + values) in one page of a scan; a larger request is lowered to it. */
  scanPageBytesMax: number;
  /** Most entries in one page of a scan; a larger request is lowered to it. */
  scanPageEntriesMax: number;
  /** Most secondary keys one record has under one secondary index. */
  indexKeysPerRecordMax: number;
  /** Most secondary indexes one indexed write (or delete) of a record maintains at once. */
  indexesPerWriteMax: number;
  /** Most bytes one pull from or push into a client's region moves (one back-channel message; lowered to fit frameBytesMax). */
  regionChunkBytesMax: number;
  /**
   * Largest region whose bytes travel with a put request instead of being pulled (the issuer owns
   * it and one server takes it all; as Mercury sends small payloads eagerly): one round trip less.
   * 0 turns it off. Lowered to regionChunkBytesMax.
   */
  regionEagerBytesMax: number;
  /** Most bytes of one client-memory operation one server holds at once (its part of a put, get or scan). */
  regionOpBytesMax: number;
  /** Most client-memory operations one server runs at once (accepted, not yet completed). */
  regionOpsPerServerMax: number;
  /** How long a server keeps the results of a get or scan staged for their push, in milliseconds. */
  regionStageHoldMs: number;
  /** CPU time one procedure job may use over all its batches, in milliseconds. */
  procedureCpuMsMax: number;
  /** Wall time one batch call of a procedure may run, in milliseconds. */
  procedureWallMsMax: number;
  /** Heap of one procedure isolate, in MiB (isolated-vm's memoryLimit, at least 8). */
  procedureIsolateMemoryMbMax: number;
  /** Long-lived procedure isolates (each in its own process) of one server. */
  procedureIsolatesMax: number;
  /** Compiled procedures a server keeps (LRU by hash). */
  proceduresCompiledMax: number;
  /** Most entries handed to a procedure in one batch call. */
  procedureBatchEntriesMax: number;
  /** Most entries one procedure job scans before it pauses for the client to page on. */
  procedureScanEntriesMax: number;
  /** Most bytes of results one procedure job holds before it pauses for the client to take them. */
  procedureResultBytesMax: number;
  /** Procedure jobs one server runs at once (queued or running). */
  procedureJobsPerServerMax: number;
  /** How long a finished procedure job keeps its state and results for a client to fetch, in milliseconds. */
  procedureJobHoldMs: number;
  /** Default time a client waits for one request, in milliseconds (0 = no timeout). */
  requestTimeoutMs: number;
  /** Time a client waits to establish a connection, in milliseconds. */
  connectTimeoutMs: number;
  /** Time a server waits for in-flight requests to finish when shutting down, in milliseconds. */
  shutdownDrainMs: number;
  /** In a group with a shared secret: time a new connection has to prove it before the server closes it, in milliseconds. */
  authHandshakeTimeoutMs: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  keyBytesMax: 4096,
  valueBytesMax: 16 * 1024 * 1024,
  batchEntriesMax: 100_000,
  writeGroupBytesMax: 4 * 1024 * 1024,
  putManyPartBytesMax: 8 * 1024 * 1024,
  putManyStagingsPerConnectionMax: 64,
  frameBytesMax: 64 * 1024 * 1024,
  inFlightRequestsPerConnectionMax: 1024,
  connectionsPerServerMax: 1024,
  replyBacklogBytesMax: 64 * 1024 * 1024,
  scanPageBytesMax: 1024 * 1024,
  scanPageEntriesMax: 10_000,
  indexKeysPerRecordMax: 1024,
  indexesPerWriteMax: 64,
  regionChunkBytesMax: 1024 * 1024,
  regionEagerBytesMax: 256 * 1024,
  regionOpBytesMax: 256 * 1024 * 1024,
  regionOpsPerServerMax: 1024,
  regionStageHoldMs: 30_000,
  procedureCpuMsMax: 60_000,
  procedureWallMsMax: 5_000,
  procedureIsolateMemoryMbMax: 128,
  procedureIsolatesMax: 2,
  proceduresCompiledMax: 256,
  procedureBatchEntriesMax: 1000,
  procedureScanEntriesMax: 1_000_000,
  procedureResultBytesMax: 16 * 1024 * 1024,
  procedureJobsPerServerMax: 64,
  procedureJobHoldMs: 10 * 60 * 1000,
  requestTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  shutdownDrainMs: 10_000,
  authHandshakeTimeoutMs: 10_000,
});

/** Bytes a frame needs beyond its keys and values (message envelope, op name, db name). */
export const FRAME_OVERHEAD_BYTES = 1024;

const NON_ZERO: ReadonlySet<keyof Limits> = new Set<keyof Limits>([
  'keyBytesMax', 'valueBytesMax', 'batchEntriesMax', 'writeGroupBytesMax', 'putManyStagingsPerConnectionMax', 'frameBytesMax',
  'inFlightRequestsPerConnectionMax', 'connectionsPerServerMax', 'replyBacklogBytesMax', 'scanPageBytesMax', 'scanPageEntriesMax', 'indexKeysPerRecordMax', 'indexesPerWriteMax',
  'regionChunkBytesMax', 'regionOpBytesMax', 'regionOpsPerServerMax', 'regionStageHoldMs', 'connectTimeoutMs', 'authHandshakeTimeoutMs',
  'procedureCpuMsMax', 'procedureWallMsMax', 'procedureIsolateMemoryMbMax', 'procedureIsolatesMax', 'proceduresCompiledMax',
  'procedureBatchEntriesMax', 'procedureScanEntriesMax', 'procedureResultBytesMax', 'procedureJobsPerServerMax', 'procedureJobHoldMs',
]);

/** Overlays `overrides` on the defaults and checks the result; a bad value is HPCKV_ERR_BAD_CONFIG. */
export function resolveLimits(...overrides: Array<Partial<Limits> | undefined>): Limits {
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const override of overrides) {
    if (override === undefined) continue;
    for (const [name, value] of Object.entries(override)) {
      if (!(name in DEFAULT_LIMITS)) {
        throw new HpckvError(ErrorCodes.BAD_CONFIG, `unknown limit "${name}"`, { details: { limit: name } });
      }
      if (value === undefined) continue;
      (limits as unknown as Record<string, unknown>)[name] = value;
    }
  }
  for (const name of Object.keys(DEFAULT_LIMITS) as Array<keyof Limits>) {
    const value = limits[name];
    const min = NON_ZERO.has(name) ? 1 : 0;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      throw new HpckvError(ErrorCodes.BAD_CONFIG,
        `limit ${name} must be an integer >= ${min}, got ${String(value)}`, { details: { limit: name } });
    }
  }
  if (limits.frameBytesMax > 0xffff_ffff) {
    throw new HpckvError(ErrorCodes.BAD_CONFIG, 'limit frameBytesMax must fit the 32-bit length prefix',
      { details: { limit: 'frameBytesMax' } });
  }
  if (limits.frameBytesMax < limits.keyBytesMax + limits.valueBytesMax + FRAME_OVERHEAD_BYTES) {
    throw new HpckvError(ErrorCodes.BAD_CONFIG,
      'limit frameBytesMax must hold one largest key and value plus ' + FRAME_OVERHEAD_BYTES + ' bytes of envelope',
      { details: { limit: 'frameBytesMax' } });
  }
  if (limits.procedureIsolateMemoryMbMax < 8) {
    throw new HpckvError(ErrorCodes.BAD_CONFIG, 'limit procedureIsolateMemoryMbMax must be at least 8 (isolated-vm\'s minimum)',
      { details: { limit: 'procedureIsolateMemoryMbMax' } });
  }
  return limits;
}

import { join } from 'node:path';
import type { Communicator } from '../core/comm/communicator.js';
import { ErrorCodes, HpckvError } from '../core/errors.js';
import type { GroupFile, SlicePartitionSpec } from '../core/group-file.js';
import { formGroup } from '../core/group-formation.js';
import type { KeyValue } from '../core/keys/key-type.js';
import { resolveLimits } from '../core/limits.js';
import { DEFAULT_DATABASE } from '../core/protocol/messages.js';
import { serverListenAddress } from '../core/rpc/listen-address.js';
import { serverStarter, type EmbeddedServer } from '../core/server-runtime.js';
import type { BytesInput } from './bytes.js';
import { Client, type KeyInput, type ServerKeyBounds, type SliceStat } from './client.js';
import {
  MDHIM_DB_APPEND, MDHIM_DB_ERROR, MDHIM_ERROR, MDHIM_GET_EQ, MDHIM_GET_FIRST, MDHIM_GET_LAST, MDHIM_GET_NEXT,
  MDHIM_GET_PREV, MDHIM_LONG_INT_KEY, MDHIM_SUCCESS,
} from './mdhim-codes.js';
import { checkMdhimOptions, type MdhimOptions } from './mdhim-options.js';

export * from './mdhim-codes.js';
export { mdhimOptionsInit, type MdhimOptions } from './mdhim-options.js';

/**
 * MDHIM's C API (mdhim-tng's mdhim.h) in TypeScript: same names, options and codes, with
 * `Promise` where the C call blocks. Every rank of the communicator is a client; ranks with
 * rank % rserverFactor === 0 also host a range server (in this process, as MDHIM runs its range
 * server threads), and keys go to servers by MDHIM's slices. Where MDHIM is unsound hpckv differs
 * (README, "MDHIM facade"): keys of every type keep their natural order, NEXT/PREV need no stat
 * flush and give the true neighbour of a key that is not stored, and mdhimBGetOp continues onto
 * the following servers instead of stopping at the end of one.
 */
export class MdhimContext {
  readonly comm: Communicator;
  readonly options: Readonly<MdhimOptions>;
  /** hpckv's key type for opts.keyType (core/keys text form). */
  readonly keyType: string;
  readonly client: Client;
  /** This rank's range server, when it hosts one. */
  readonly server: EmbeddedServer | undefined;
  /** Per-server key bounds and record counts from the last mdhimStatFlush. */
  stats: MdhimServerStat[] = [];
  /** Per-slice owner, record count and key bounds from the last mdhimStatFlush, in slice order. */
  sliceStats: SliceStat[] = [];
  /** The typed error behind the last failed call (MDHIM only logs it). */
  lastError: unknown;
  closed = false;
  private readonly rangeComm: Communicator;

  constructor(comm: Communicator, options: MdhimOptions, keyType: string, client: Client, server: EmbeddedServer | undefined,
    rangeComm: Communicator) {
    this.comm = comm;
    this.options = options;
    this.keyType = keyType;
    this.client = client;
    this.server = server;
    this.rangeComm = rangeComm;
  }

  /** Number of range servers. */
  get rangeServers(): number {
    return this.client.serverCount;
  }

  /** @internal mdhimClose's last step. */
  async release(): Promise<void> {
    await this.rangeComm.close();
  }
}

/** mdhim_brm_t: the answer to a write. */
export interface MdhimBrm {
  error: number;
}

/** mdhim_bgetrm_t: the records a read found (in request order or cursor order). */
export interface MdhimBGetRm {
  error: number;
  keys: KeyValue[];
  values: Buffer[];
  numKeys: number;
}

/** What mdhimStatFlush gathers for each range server (MDHIM keeps it per slice; see README). */
export interface MdhimServerStat extends ServerKeyBounds {
  records: number;
}

/** MDHIM keys: numbers for int/float/double, bigint (or a safe integer) for long, strings, bytes. */
export type MdhimKey = KeyInput;

/**
 * Collective over `comm` (MDHIM's appComm). Validates the options (a bad one throws
 * HPCKV_ERR_BAD_CONFIG where MDHIM returns NULL), starts the range servers, forms the group and
 * connects every rank. Needs a process that can host servers: import "hpckv" first.
 */
export async function mdhimInit(comm: Communicator, opts: MdhimOptions): Promise<MdhimContext> {
  const keyType = checkMdhimOptions(opts);
  const options: MdhimOptions = { ...opts };
  const limits = resolveLimits(options.limits);
  const isRangeServer = comm.rank % options.rserverFactor === 0;
  const rangeComm = await comm.split(isRangeServer ? 0 : 1, comm.rank);
  const partition: SlicePartitionSpec = { scheme: 'slices', sliceSize: options.maxRecsPerSlice, keyType };
  // One directory per database name, so two MDHIM stores under one dbPath never share files.
  const dataDir = join(options.dbPath, options.dbName);
  let server: EmbeddedServer | undefined;
  let group: GroupFile | undefined;
  let failure: unknown;
  try {
    if (isRangeServer) {
      server = await serverStarter()({
        rank: rangeComm.rank, size: rangeComm.size, service: options.dbName, dataDir, databases: [DEFAULT_DATABASE],
        listenAddress: serverListenAddress(options.commProtocol, dataDir, rangeComm.rank), limits, partition, epoch: 0, keyType,
      });
    }
  } catch (error) {
    failure = error;
  }
  // Every rank learns whether every server started before anyone waits on the others.
  const failures = await comm.allgather(failure === undefined ? null : String(failure instanceof Error ? failure.message : failure));
  const failed = failures.findIndex((message) => message !== null);
  if (failed >= 0) {
    await server?.stop();
    await rangeComm.close();
    throw new HpckvError(ErrorCodes.BAD_CONFIG, `mdhimInit: range server on rank ${failed} failed: ${failures[failed]!}`,
      { cause: failure });
  }
  if (isRangeServer) {
    group = await formGroup(rangeComm, { address: server!.address, databases: [DEFAULT_DATABASE] },
      { service: options.dbName, partition, epoch: 0, limits: options.limits ?? {}, keyType });
  }
  // Rank 0 is always a range server (0 % factor === 0) and so holds the group.
  const shared = await comm.bcast<GroupFile | undefined>(0, group);
  if (shared === undefined) throw new HpckvError(ErrorCodes.INTERNAL, 'mdhimInit: rank 0 did not share the group');
  const client = await Client.fromGroup(shared, options.limits === undefined ? {} : { limits: options.limits });
  await comm.barrier();
  return new MdhimContext(comm, options, keyType, client, server, rangeComm);
}

/** Runs a call, turning a failure into MDHIM_ERROR with the typed error kept in md.lastError. */
async function guarded<T extends { error: number }>(md: MdhimContext, failed: T, run: (client: Client) => Promise<T>): Promise<T> {
  if (!(md instanceof MdhimContext) || md.closed) {
    if (md instanceof MdhimContext) md.lastError = new HpckvError(ErrorCodes.BAD_CONFIG, 'the MDHIM context is closed');
    return failed;
  }
  try {
    return await run(md.client);
  } catch (error) {
    md.lastError = error;
    return failed;
  }
}

const writeFailed = (): MdhimBrm => ({ error: MDHIM_ERROR });
const readFailed = (): MdhimBGetRm => ({ error: MDHIM_ERROR, keys: [], values: [], numKeys: 0 });

/** A long key may be passed as a safe integer for convenience; hpckv's int64 keys are bigints. */
function keyOf(md: MdhimContext, key: MdhimKey): KeyInput {
  return md.options.keyType === MDHIM_LONG_INT_KEY && typeof key === 'number' && Number.isSafeInteger(key) ? BigInt(key) : key;
}

function records(found: Array<[KeyValue, Buffer]>): MdhimBGetRm {
  return {
    error: found.length === 0 ? MDHIM_DB_ERROR : MDHIM_SUCCESS,
    keys: found.map(([key]) => key), values: found.map(([, value]) => value), numKeys: found.length,
  };
}

/** mdhimPut: stores (or, with MDHIM_DB_APPEND, appends to) one record. */
export function mdhimPut(md: MdhimContext, key: MdhimKey, value: BytesInput): Promise<MdhimBrm> {
  return guarded(md, writeFailed(), async (client) => {
    if (md.options.valueAppend === MDHIM_DB_APPEND) await client.append(keyOf(md, key), value);
    else await client.put(keyOf(md, key), value);
    return { error: MDHIM_SUCCESS };
  });
}

/**
 * mdhimBPut: many records, one message per range server, atomic within each server. With
 * MDHIM_DB_APPEND each record is appended on its own (appends do not batch).
 */
export function mdhimBPut(md: MdhimContext, keys: readonly MdhimKey[], values: readonly BytesInput[]): Promise<MdhimBrm> {
  return guarded(md, writeFailed(), async (client) => {
    if (!Array.isArray(keys) || !Array.isArray(values) || keys.length !== values.length) {
      throw new TypeError('mdhimBPut: keys and values must be arrays of the same length');
    }
    if (md.options.valueAppend === MDHIM_DB_APPEND) {
      for (let i = 0; i < keys.length; i++) await client.append(keyOf(md, keys[i]!), values[i]!);
    } else {
      await client.putMany(keys.map((key, i) => [keyOf(md, key), values[i]!] as const));
    }
    return { error: MDHIM_SUCCESS };
  });
}

/** One cursor step of `op` from `key` (ignored by FIRST and LAST). */
async function getOne(md: MdhimContext, client: Client, key: MdhimKey | undefined, op: number): Promise<Array<[KeyValue, Buffer]>> {
  switch (op) {
    case MDHIM_GET_EQ: {
      if (key === undefined) throw new TypeError('MDHIM_GET_EQ needs a key');
      const k = keyOf(md, key);
      const value = await client.get(k);
      // The key as the store types it (e.g. a long passed as a number comes back a bigint).
      return value === undefined ? [] : [[client.decodeKey(client.encodeKey(k)), value]];
    }
    case MDHIM_GET_NEXT:
    case MDHIM_GET_PREV: {
      if (key === undefined) throw new TypeError('MDHIM_GET_NEXT and MDHIM_GET_PREV need a key');
      const found = op === MDHIM_GET_NEXT ? await client.next(keyOf(md, key)) : await client.prev(keyOf(md, key));
      return found === undefined ? [] : [found];
    }
    case MDHIM_GET_FIRST:
    case MDHIM_GET_LAST: {
      const found = op === MDHIM_GET_FIRST ? await client.first() : await client.last();
      return found === undefined ? [] : [found];
    }
    default:
      throw new TypeError(`unknown MDHIM get operation ${String(op)}`);
  }
}

/**
 * mdhimGet: EQ gives the key's record; NEXT/PREV the record just after/before the key (stored
 * or not); FIRST/LAST the smallest/largest record. Nothing found is error MDHIM_DB_ERROR.
 */
export function mdhimGet(md: MdhimContext, key: MdhimKey | undefined, op: number): Promise<MdhimBGetRm> {
  return guarded(md, readFailed(), async (client) => records(await getOne(md, client, key, op)));
}

/**
 * mdhimBGet: `op` applied to each key. EQ reads all keys with one message per range server and
 * returns the records found in the caller's order (missing keys are left out, as in MDHIM);
 * NEXT/PREV give each key's neighbour.
 */
export function mdhimBGet(md: MdhimContext, keys: readonly MdhimKey[], op: number): Promise<MdhimBGetRm> {
  return guarded(md, readFailed(), async (client) => {
    if (!Array.isArray(keys)) throw new TypeError('mdhimBGet: keys must be an array');
    if (op !== MDHIM_GET_EQ) {
      const found = await Promise.all(keys.map((key) => getOne(md, client, key, op)));
      return records(found.flat());
    }
    const typed = keys.map((key) => keyOf(md, key));
    const values = await client.getMany(typed);
    const found: Array<[KeyValue, Buffer]> = [];
    values.forEach((value, i) => { if (value !== undefined) found.push([client.decodeKey(client.encodeKey(typed[i]!)), value]); });
    return records(found);
  });
}

/**
 * mdhimBGetOp: up to `numRecords` consecutive records: NEXT after `key`, PREV before it
 * (descending), EQ from `key` itself onwards, FIRST from the smallest key, LAST from the largest
 * (descending). Unlike MDHIM, which stops at the end of one range server, the records continue
 * onto the following servers in global key order.
 */
export function mdhimBGetOp(md: MdhimContext, key: MdhimKey | undefined, numRecords: number, op: number): Promise<MdhimBGetRm> {
  return guarded(md, readFailed(), async (client) => {
    if (!Number.isSafeInteger(numRecords) || numRecords < 1) throw new RangeError(`mdhimBGetOp: numRecords must be an integer >= 1, got ${String(numRecords)}`);
    switch (op) {
      case MDHIM_GET_NEXT:
      case MDHIM_GET_PREV:
        if (key === undefined) throw new TypeError('MDHIM_GET_NEXT and MDHIM_GET_PREV need a key');
        return records(await client.getRange(keyOf(md, key), numRecords, op === MDHIM_GET_NEXT ? 'next' : 'prev'));
      case MDHIM_GET_FIRST:
      case MDHIM_GET_LAST:
        return records(await client.getRange(undefined, numRecords, op === MDHIM_GET_FIRST ? 'next' : 'prev'));
      case MDHIM_GET_EQ: {
        if (key === undefined) throw new TypeError('MDHIM_GET_EQ needs a key');
        const found = await client.iterate({ gte: keyOf(md, key), limit: numRecords, firstPageEntries: numRecords }).all();
        return records(found as Array<[KeyValue, Buffer]>);
      }
      default:
        throw new TypeError(`unknown MDHIM get operation ${String(op)}`);
    }
  });
}

/** mdhimDelete: deleting a key that is not stored succeeds. */
export function mdhimDelete(md: MdhimContext, key: MdhimKey): Promise<MdhimBrm> {
  return guarded(md, writeFailed(), async (client) => {
    await client.del(keyOf(md, key));
    return { error: MDHIM_SUCCESS };
  });
}

/** mdhimBDelete: many keys, one message per range server. */
export function mdhimBDelete(md: MdhimContext, keys: readonly MdhimKey[]): Promise<MdhimBrm> {
  return guarded(md, writeFailed(), async (client) => {
    if (!Array.isArray(keys)) throw new TypeError('mdhimBDelete: keys must be an array');
    await client.delMany(keys.map((key) => keyOf(md, key)));
    return { error: MDHIM_SUCCESS };
  });
}

/**
 * mdhimCommit: every write this rank saw acknowledged is already in its range server's LevelDB
 * log, so it survives a server crash and there is nothing left to flush (MDHIM's LevelDB commit
 * is a no-op too). Power-loss durability needs synced writes: `md.client.put(k, v, { sync: true })`.
 * Fails only on a closed context.
 */
export async function mdhimCommit(md: MdhimContext): Promise<number> {
  return (await guarded(md, writeFailed(), () => Promise.resolve({ error: MDHIM_SUCCESS }))).error;
}

/**
 * mdhimStatFlush: collective. MDHIM needs it before NEXT/PREV can work; hpckv does not (cursor
 * steps ask the servers), so it only does what is still useful: a barrier (every rank's earlier
 * writes are visible to every rank afterwards), then md.stats gets each server's record count
 * and smallest and largest key, and md.sliceStats the same per slice, read from the stores.
 */
export async function mdhimStatFlush(md: MdhimContext): Promise<number> {
  return (await guarded(md, writeFailed(), async (client) => {
    await md.comm.barrier();
    // Rank 0 reads the stats once and shares them, rather than every rank asking every server.
    // A failure on rank 0 is shared too, so no rank waits for stats that never come.
    let mine: { stats: MdhimServerStat[]; slices: SliceStat[] } | { failed: string } | undefined;
    if (md.comm.rank === 0) {
      try {
        const [bounds, stats, slices] = await Promise.all([client.keyBoundsByServer(), client.stat({ db: DEFAULT_DATABASE }), client.sliceStats()]);
        mine = { stats: bounds.map((b, i) => ({ ...b, records: stats[i]!.databases[DEFAULT_DATABASE]?.records ?? 0 })), slices };
      } catch (error) {
        mine = { failed: error instanceof Error ? error.message : String(error) };
      }
    }
    const shared = await md.comm.bcast(0, mine);
    if (shared === undefined || 'failed' in shared) {
      throw new HpckvError(ErrorCodes.INTERNAL, `mdhimStatFlush: rank 0 could not read the stats: ${shared?.failed ?? 'nothing shared'}`);
    }
    md.stats = shared.stats;
    md.sliceStats = shared.slices;
    return { error: MDHIM_SUCCESS };
  })).error;
}

/**
 * mdhimClose: collective. Waits for every rank, disconnects, stops this rank's range server
 * (its accepted writes drain first) and waits for every rank again.
 */
export async function mdhimClose(md: MdhimContext): Promise<number> {
  if (!(md instanceof MdhimContext)) return MDHIM_ERROR;
  if (md.closed) return MDHIM_SUCCESS;
  try {
    await md.comm.barrier();
    md.closed = true;
    await md.client.close();
    await md.server?.stop();
    await md.comm.barrier();
    await md.release();
    return MDHIM_SUCCESS;
  } catch (error) {
    md.lastError = error;
    return MDHIM_ERROR;
  }
}

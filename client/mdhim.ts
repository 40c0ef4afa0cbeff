/**
 * MDHIM's C API (mdhim-tng's mdhim.h) in TypeScript: same names, options and codes, with
 * `Promise` where the C call blocks. Every rank of the communicator is a client; ranks with
 * rank % rserverFactor === 0 also host a range server (in this process, as MDHIM runs its range
 * server threads), and keys go to servers by MDHIM's slices. Where MDHIM is unsound hpckv differs
 * (README, "MDHIM facade"): keys of every type keep their natural order, NEXT/PREV need no stat
 * flush and give the true neighbour of a key that is not stored, and mdhimBGetOp continues onto
 * the following servers instead of stopping at the end of one.
 *
 * This module starts and ends a store (collectively), writes and flushes; the reads are in
 * `client/mdhim-reads.ts` and the context every call takes in `client/mdhim-context.ts`, both
 * re-exported here.
 */

import { join } from 'node:path';
import type { Communicator } from '../core/comm/communicator.js';
import { ErrorCodes, HpckvError } from '../core/errors.js';
import type { GroupFile, SlicePartitionSpec } from '../core/group-file.js';
import { formGroup } from '../core/group-formation.js';
import { resolveLimits } from '../core/limits.js';
import { DEFAULT_DATABASE } from '../core/protocol/messages.js';
import { serverListenAddress } from '../core/rpc/listen-address.js';
import { serverStarter, type EmbeddedServer } from '../core/server-runtime.js';
import type { BytesInput } from './bytes.js';
import { Client, type SliceStat } from './client.js';
import { MDHIM_DB_APPEND, MDHIM_ERROR, MDHIM_SUCCESS } from './mdhim-codes.js';
import { guarded, keyOf, MdhimContext, type MdhimBrm, type MdhimKey, type MdhimServerStat } from './mdhim-context.js';
import { checkMdhimOptions, type MdhimOptions } from './mdhim-options.js';
import { shareStartFailure } from './start-failure.js';

export * from './mdhim-codes.js';
export { mdhimOptionsInit, type MdhimOptions } from './mdhim-options.js';
export { MdhimContext, type MdhimBGetRm, type MdhimBrm, type MdhimKey, type MdhimServerStat } from './mdhim-context.js';
export { mdhimBGet, mdhimBGetOp, mdhimGet } from './mdhim-reads.js';

/**
 * Collective over `comm` (MDHIM's appComm). Validates the options (a bad one throws
 * HPCKV_ERR_BAD_CONFIG where MDHIM returns NULL), starts the range servers, forms the group and
 * connects every rank. A range server that cannot start makes every rank reject with its code
 * (a store made for another key type, slice size or server count: HPCKV_ERR_GROUP_FILE, where
 * MDHIM aborts the job). Needs a process that can host servers: import "hpckv" first.
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
  try {
    // Every rank learns whether every server started, and why not, before anyone waits on the others.
    await shareStartFailure(comm, failure, 'mdhimInit: range server');
  } catch (error) {
    await server?.stop();
    await rangeComm.close();
    throw error;
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


const writeFailed = (): MdhimBrm => ({ error: MDHIM_ERROR });


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

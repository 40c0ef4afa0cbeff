/**
 * The MDHIM facade's state of one store on this rank (MdhimContext), the answer types of its calls,
 * and the guard every call goes through, which turns a failure into MDHIM_ERROR as the C API does.
 * Apart from the calls themselves (`client/mdhim.ts`, `client/mdhim-reads.ts`), which all take it.
 */
import type { Communicator } from '../core/comm/communicator.js';
import { ErrorCodes, HpckvError } from '../core/errors.js';
import type { KeyValue } from '../core/keys/key-type.js';
import type { EmbeddedServer } from '../core/server-runtime.js';
import type { Client } from './client.js';
import type { KeyInput, ServerKeyBounds, SliceStat } from './core/options.js';
import { MDHIM_LONG_INT_KEY } from './mdhim-codes.js';
import type { MdhimOptions } from './mdhim-options.js';

/**
 * One MDHIM store as this rank sees it (MDHIM's mdhim_t): its communicator and options, its
 * client and, on a range-server rank, its range server. `mdhimInit` makes it.
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

/** Runs a call, turning a failure into MDHIM_ERROR with the typed error kept in md.lastError. */
export async function guarded<T extends { error: number }>(md: MdhimContext, failed: T, run: (client: Client) => Promise<T>): Promise<T> {
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

/** A long key may be passed as a safe integer for convenience; hpckv's int64 keys are bigints. */
export function keyOf(md: MdhimContext, key: MdhimKey): KeyInput {
  return md.options.keyType === MDHIM_LONG_INT_KEY && typeof key === 'number' && Number.isSafeInteger(key) ? BigInt(key) : key;
}

import { ErrorCodes, HpckvError } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import { MDHIM_DB_APPEND, MDHIM_DB_OVERWRITE, MDHIM_INT_KEY, MDHIM_KEY_TYPES } from './mdhim-codes.js';

/** MDHIM's mdhim_options_t, camelCase, plus the transport hpckv needs to choose. */
export interface MdhimOptions {
  /** Directory where range-server ranks keep their databases (rank-<r>/ under it) and Unix sockets. */
  dbPath: string;
  /** Database (service) name; MDHIM prefixes files with it, hpckv names the group after it. */
  dbName: string;
  /** MDHIM_INT_KEY .. MDHIM_BYTE_KEY. */
  keyType: number;
  /** Ranks with rank % rserverFactor === 0 also run a range server (so rank 0 always does). */
  rserverFactor: number;
  /** Slice size: slice = floor(key / maxRecsPerSlice), owned by range server slice mod N. */
  maxRecsPerSlice: number;
  /** MDHIM_DB_OVERWRITE (a put replaces the value) or MDHIM_DB_APPEND (a put appends to it). */
  valueAppend: number;
  /** Accepted for compatibility and unused: hpckv reports through return codes and md.lastError. */
  debugLevel: number;
  /** 'unix' (one host, the faster) or 'tcp' (ranks on several hosts). */
  commProtocol: 'unix' | 'tcp';
  /** hpckv limits overlaid on the defaults (optional). */
  limits?: Partial<Limits>;
}

/** mdhim_options_init: mdhim-tng's defaults (int keys, a range server on every rank, 100000 keys a slice). */
export function mdhimOptionsInit(): MdhimOptions {
  return {
    dbPath: './', dbName: 'mdhimTstDB-', keyType: MDHIM_INT_KEY, rserverFactor: 1,
    maxRecsPerSlice: 100_000, valueAppend: MDHIM_DB_OVERWRITE, debugLevel: 0, commProtocol: 'unix',
  };
}

function badOption(what: string): never {
  throw new HpckvError(ErrorCodes.BAD_CONFIG, `mdhimInit: ${what}`);
}

/** Checks the options and returns hpckv's key type for them. */
export function checkMdhimOptions(opts: MdhimOptions): string {
  if (typeof opts !== 'object' || opts === null) badOption('opts must be an MdhimOptions (see mdhimOptionsInit)');
  const keyType = MDHIM_KEY_TYPES[opts.keyType];
  if (keyType === undefined) badOption(`keyType ${String(opts.keyType)} is not one of MDHIM_INT_KEY..MDHIM_BYTE_KEY`);
  if (typeof opts.dbPath !== 'string' || opts.dbPath.length === 0) badOption('dbPath must be a non-empty string');
  if (typeof opts.dbName !== 'string' || opts.dbName.length === 0) badOption('dbName must be a non-empty string');
  if (!Number.isSafeInteger(opts.rserverFactor) || opts.rserverFactor < 1) badOption('rserverFactor must be an integer >= 1');
  // An integer even for float keys: MDHIM's field is a record count (uint64).
  if (!Number.isSafeInteger(opts.maxRecsPerSlice) || opts.maxRecsPerSlice < 1) badOption('maxRecsPerSlice must be an integer >= 1');
  if (opts.valueAppend !== MDHIM_DB_OVERWRITE && opts.valueAppend !== MDHIM_DB_APPEND) badOption('valueAppend must be MDHIM_DB_OVERWRITE or MDHIM_DB_APPEND');
  if (opts.dbName.includes('/') || opts.dbName === '.' || opts.dbName === '..') badOption('dbName must not be a path');
  if (opts.commProtocol !== 'unix' && opts.commProtocol !== 'tcp') badOption(`commProtocol must be 'unix' or 'tcp'`);
  return keyType;
}

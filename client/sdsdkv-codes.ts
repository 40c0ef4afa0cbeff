import { ErrorCodes, isHpckvError } from '../core/errors.js';

/** SDSDKV's return codes, same names and values as sdsdkv.h. */
export const SDSDKV_SUCCESS = 0;
export const SDSDKV_SUCCESS_ALREADY_DONE = 1;
export const SDSDKV_ERR = 2;
export const SDSDKV_ERR_SYS = 3;
export const SDSDKV_ERR_DB_CREATE = 4;
export const SDSDKV_ERR_DB_NAME = 5;
export const SDSDKV_ERR_DB_UNKNOWN = 6;
export const SDSDKV_ERR_PR_UNKNOWN = 7;
export const SDSDKV_ERR_PUT = 8;
export const SDSDKV_ERR_UNKNOWN_KEY = 9;
export const SDSDKV_ERR_SIZE = 10;
export const SDSDKV_ERR_ERASE = 11;
export const SDSDKV_ERR_SERVICE = 12;
export const SDSDKV_ERR_OOR = 13;
export const SDSDKV_ERR_INVLD_ARG = 14;
export const SDSDKV_ERR_INVLD_CONFIG = 15;
export const SDSDKV_ERR_CALL_BEFORE_INIT = 16;
export const SDSDKV_ERR_MPI = 17;
export const SDSDKV_ERR_NOT_SUPPORTED = 18;
export const SDSDKV_ERR_NOT_FOUND = 19;

/** Personalities, hashing back-ends and database types, as in sdsdkv.h. */
export const SDSDKV_PERSONALITY_CLIENT = 0;
export const SDSDKV_PERSONALITY_SERVER = 1;
export const SDSDKV_HASHING_CH_PLACEMENT = 0;
export const SDSDKV_DB_MAP = 0;
export const SDSDKV_DB_LEVELDB = 1;
/** The default (byte-wise) key comparison; the only one hpckv's hash scheme needs. */
export const SDSDKV_COMPARE_DEFAULT = null;

/** The SDSDKV code for an hpckv error (the error itself stays readable via sdsdkv_last_error). */
export function sdsdkvCodeOf(error: unknown): number {
  if (!isHpckvError(error)) return error instanceof TypeError || error instanceof RangeError ? SDSDKV_ERR_INVLD_ARG : SDSDKV_ERR;
  switch (error.code) {
    case ErrorCodes.KEY_TOO_LARGE:
    case ErrorCodes.VALUE_TOO_LARGE:
    case ErrorCodes.BATCH_TOO_LARGE:
    case ErrorCodes.FRAME_TOO_LARGE:
    case ErrorCodes.BAD_REQUEST:
      return SDSDKV_ERR_INVLD_ARG;
    case ErrorCodes.UNKNOWN_DATABASE:
      return SDSDKV_ERR_DB_UNKNOWN;
    case ErrorCodes.BAD_CONFIG:
    case ErrorCodes.GROUP_FILE:
      return SDSDKV_ERR_INVLD_CONFIG;
    case ErrorCodes.COMM:
      return SDSDKV_ERR_MPI;
    case ErrorCodes.TOO_MANY_CONNECTIONS:
    case ErrorCodes.TOO_MANY_IN_FLIGHT:
      return SDSDKV_ERR_OOR;
    case ErrorCodes.TIMEOUT:
    case ErrorCodes.ABORTED:
    case ErrorCodes.CONNECTION_CLOSED:
    case ErrorCodes.CONNECT_FAILED:
    case ErrorCodes.SHUTTING_DOWN:
    case ErrorCodes.PROTOCOL:
    case ErrorCodes.UNKNOWN_OP:
      return SDSDKV_ERR_SERVICE;
    case ErrorCodes.STORE:
      return SDSDKV_ERR_SYS;
    default:
      return SDSDKV_ERR;
  }
}

/**
 * MDHIM's constants (mdhim-tng's mdhim.h and data_store.h), same values, so code ported from
 * C keeps its numbers. Key types map onto hpckv's typed keys (see MDHIM_KEY_TYPES).
 */

/** Return codes. */
export const MDHIM_SUCCESS = 0;
export const MDHIM_ERROR = -1;
/** The store had no record for the request (a missing key, or no record past a cursor). */
export const MDHIM_DB_ERROR = -2;

/** Key types (opts.keyType). */
export const MDHIM_INT_KEY = 1;
export const MDHIM_LONG_INT_KEY = 2;
export const MDHIM_FLOAT_KEY = 3;
export const MDHIM_DOUBLE_KEY = 4;
export const MDHIM_STRING_KEY = 5;
export const MDHIM_BYTE_KEY = 6;

/** Value modes (opts.valueAppend): a put replaces the value, or appends to it. */
export const MDHIM_DB_OVERWRITE = 0;
export const MDHIM_DB_APPEND = 1;

/** Get operations (mdhimGet, mdhimBGetOp). */
export const MDHIM_GET_EQ = 0;
export const MDHIM_GET_NEXT = 1;
export const MDHIM_GET_PREV = 2;
export const MDHIM_GET_FIRST = 3;
export const MDHIM_GET_LAST = 4;

/** hpckv's key type (core/keys text form) for each MDHIM key type. */
export const MDHIM_KEY_TYPES: Readonly<Record<number, string>> = {
  [MDHIM_INT_KEY]: 'int32',
  [MDHIM_LONG_INT_KEY]: 'int64',
  [MDHIM_FLOAT_KEY]: 'float32',
  [MDHIM_DOUBLE_KEY]: 'float64',
  [MDHIM_STRING_KEY]: 'string',
  [MDHIM_BYTE_KEY]: 'bytes',
};

export type MdhimGetOp = typeof MDHIM_GET_EQ | typeof MDHIM_GET_NEXT | typeof MDHIM_GET_PREV
  | typeof MDHIM_GET_FIRST | typeof MDHIM_GET_LAST;

import { ErrorCodes, HpckvError, type ErrorCode } from '../errors.js';
import type { Limits } from '../limits.js';
import { DATABASE_NAME_PATTERN } from './messages.js';

/**
 * The checks every path applies to keys, values, entry counts and database names: the client before sending, the
 * server before touching a store, the region service on pairs it pulled. One code and one phrasing
 * per fault wherever it is found:
 *   - an empty key is HPCKV_ERR_BAD_REQUEST (a malformed request, not a size);
 *   - a key over keyBytesMax is HPCKV_ERR_KEY_TOO_LARGE, a value over valueBytesMax
 *     HPCKV_ERR_VALUE_TOO_LARGE, more entries than batchEntriesMax HPCKV_ERR_BATCH_TOO_LARGE;
 *   - a limit's error reads "<what> is <n> <unit>, more than <limit> <max>" and its details carry
 *     `limit`, the amount seen (`bytes` or `entries`) and `max`, with the field and entry index when
 *     there are.
 */

/** Where a checked thing sits in its request: a field name, and its index in a bulk request. */
export interface FieldPlace {
  field?: string;
  index?: number;
}

type Detail = string | number;

function placeDetails(place: FieldPlace): Record<string, Detail> {
  const details: Record<string, Detail> = {};
  if (place.field !== undefined) details['field'] = place.field;
  if (place.index !== undefined) details['index'] = place.index;
  return details;
}

function describe(what: string, place: FieldPlace): string {
  const subject = place.field ?? what;
  return place.index === undefined ? subject : `${subject} [${place.index}]`;
}

/**
 * The error for an amount above a limit. `unit` names the amount and its detail ('bytes' or
 * 'entries'); `extra` details are added (a field, a staging id).
 */
export function limitExceeded(code: ErrorCode, limit: keyof Limits, what: string, seen: number, max: number,
  unit: 'bytes' | 'entries', extra: Record<string, Detail> = {}): HpckvError {
  return new HpckvError(code, `${what} is ${seen} ${unit}, more than ${limit} ${max}`,
    { details: { ...extra, limit, [unit]: seen, max } });
}

/** A key within the limits: not empty (HPCKV_ERR_BAD_REQUEST), at most keyBytesMax (HPCKV_ERR_KEY_TOO_LARGE). */
export function checkKey<K extends Uint8Array>(key: K, limits: Limits, place: FieldPlace = {}): K {
  if (key.length === 0) {
    throw new HpckvError(ErrorCodes.BAD_REQUEST, `${describe('key', place)} must not be empty`, { details: { ...placeDetails(place), bytes: 0 } });
  }
  if (key.length > limits.keyBytesMax) {
    throw limitExceeded(ErrorCodes.KEY_TOO_LARGE, 'keyBytesMax', describe('key', place), key.length, limits.keyBytesMax, 'bytes', placeDetails(place));
  }
  return key;
}

/** A value within the limits: at most valueBytesMax (HPCKV_ERR_VALUE_TOO_LARGE); empty values are fine. */
export function checkValue<V extends Uint8Array>(value: V, limits: Limits, place: FieldPlace = {}): V {
  if (value.length > limits.valueBytesMax) {
    throw limitExceeded(ErrorCodes.VALUE_TOO_LARGE, 'valueBytesMax', describe('value', place), value.length, limits.valueBytesMax, 'bytes', placeDetails(place));
  }
  return value;
}

/** At most batchEntriesMax entries in one request (HPCKV_ERR_BATCH_TOO_LARGE). */
export function checkEntries(count: number, limits: Limits, what: string, extra: Record<string, Detail> = {}): void {
  if (count > limits.batchEntriesMax) {
    throw limitExceeded(ErrorCodes.BATCH_TOO_LARGE, 'batchEntriesMax', what, count, limits.batchEntriesMax, 'entries', extra);
  }
}

/** Longest piece of a database name echoed back in an error. */
const DB_ECHO_CHARS_MAX = 100;

/**
 * A database name this server owns: a name outside DATABASE_NAME_PATTERN or one `owner` does not
 * own is HPCKV_ERR_UNKNOWN_DATABASE (the name, cut to 100 characters, in the message and details).
 * The owner is passed as itself, not as a closure: every request's check runs this.
 */
export function checkDb(name: string, owner: { ownsDatabase(name: string): boolean }): string {
  if (DATABASE_NAME_PATTERN.test(name) && owner.ownsDatabase(name)) return name;
  const echoed = name.slice(0, DB_ECHO_CHARS_MAX);
  throw new HpckvError(ErrorCodes.UNKNOWN_DATABASE, `this server has no database "${echoed}"`, { details: { db: echoed } });
}

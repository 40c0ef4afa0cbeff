import { ErrorCodes, HpckvError, type ErrorDetails } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import { BatchOpCode, DATABASE_NAME_PATTERN } from '../core/protocol.js';
import { checkEntries, checkKey, checkValue, type FieldPlace } from '../core/protocol/field-checks.js';
import { asBuffer } from '../core/wire/as-buffer.js';

/**
 * Checks request bodies before any of them reaches a store: shapes, database names, key and
 * value sizes, entry counts. A request either passes whole or fails with a typed error, so no
 * request is ever partly applied because its tenth entry turned out to be bad.
 *
 * Validated requests carry keys and values as Buffers (a view on the same memory, not a copy),
 * the type classic-level's 'buffer' encoding takes without converting.
 */

export interface ValidationContext {
  readonly limits: Limits;
  /** Whether this server owns the database `name`. */
  ownsDatabase(name: string): boolean;
}

export interface ValidKeyRequest { db: string; key: Buffer }
export interface ValidKeyWriteRequest extends ValidKeyRequest { sync: boolean }
export interface ValidPutRequest extends ValidKeyWriteRequest { value: Buffer }
export interface ValidKeysRequest { db: string; keys: Buffer[] }
export interface ValidKeysWriteRequest extends ValidKeysRequest { sync: boolean }
/** Puts and deletes side by side: `values[i]` is the value to put at `keys[i]`, or null to delete it. */
export interface ValidWritesRequest extends ValidKeysWriteRequest { values: Array<Buffer | null> }
export interface ValidStatRequest { db: string | null }

/** Longest piece of a client's string echoed back in an error. */
const ECHO_CHARS_MAX = 100;

export function badRequest(message: string, details: ErrorDetails = {}): HpckvError {
  return new HpckvError(ErrorCodes.BAD_REQUEST, message, { details });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Uint8Array) return 'bytes';
  return typeof value;
}

/** The request body as a record; anything but a plain object (arrays, bytes, null) is BAD_REQUEST. */
export function validateBody(body: unknown): Record<string, unknown> {
  if (typeof body === 'object' && body !== null) {
    const proto: unknown = Object.getPrototypeOf(body);
    if (proto === Object.prototype || proto === null) return body as Record<string, unknown>;
  }
  throw badRequest(`request body must be a map, got ${describe(body)}`, { got: describe(body) });
}

export function validateDbName(value: unknown, context: ValidationContext): string {
  if (typeof value !== 'string') {
    throw badRequest(`field "db" must be a string, got ${describe(value)}`, { field: 'db', got: describe(value) });
  }
  if (!DATABASE_NAME_PATTERN.test(value) || !context.ownsDatabase(value)) {
    const echoed = value.slice(0, ECHO_CHARS_MAX);
    throw new HpckvError(ErrorCodes.UNKNOWN_DATABASE, `this server has no database "${echoed}"`, { details: { db: echoed } });
  }
  return value;
}

export { asBuffer };

/** Where a field sits: `index` is the entry's position in a bulk request, or -1 for a single-key request. */
function placeOf(field: string, index: number): FieldPlace {
  return index >= 0 ? { field, index } : { field };
}

/** `index` is the entry's position in a bulk request, or -1 for a single-key request. */
function at(details: Record<string, string | number>, index: number): ErrorDetails {
  if (index >= 0) details['index'] = index;
  return details;
}

export function validateKey(value: unknown, context: ValidationContext, field: string, index: number): Buffer {
  if (!(value instanceof Uint8Array)) {
    throw badRequest(`${field} must be bytes, got ${describe(value)}`, at({ field, got: describe(value) }, index));
  }
  return asBuffer(checkKey(value, context.limits, placeOf(field, index)));
}

export function validateValue(value: unknown, context: ValidationContext, field: string, index: number): Buffer {
  if (!(value instanceof Uint8Array)) {
    throw badRequest(`${field} must be bytes, got ${describe(value)}`, at({ field, got: describe(value) }, index));
  }
  return asBuffer(checkValue(value, context.limits, placeOf(field, index)));
}

export function validateSync(body: Record<string, unknown>): boolean {
  const sync = body['sync'];
  if (sync === undefined) return false;
  if (typeof sync !== 'boolean') {
    throw badRequest(`field "sync" must be a boolean, got ${describe(sync)}`, { field: 'sync', got: describe(sync) });
  }
  return sync;
}

function validateList(value: unknown, context: ValidationContext, field: string): unknown[] {
  if (!Array.isArray(value)) {
    throw badRequest(`field "${field}" must be an array, got ${describe(value)}`, { field, got: describe(value) });
  }
  checkEntries(value.length, context.limits, `field "${field}"`, { field });
  return value;
}

function validateKeyList(value: unknown, context: ValidationContext): Buffer[] {
  const list = validateList(value, context, 'keys');
  const keys = new Array<Buffer>(list.length);
  for (let i = 0; i < list.length; i++) keys[i] = validateKey(list[i], context, 'keys', i);
  return keys;
}

/** get, exists, length. */
export function validateKeyRequest(body: unknown, context: ValidationContext): ValidKeyRequest {
  const b = validateBody(body);
  return { db: validateDbName(b['db'], context), key: validateKey(b['key'], context, 'key', -1) };
}

/** del. */
export function validateKeyWriteRequest(body: unknown, context: ValidationContext): ValidKeyWriteRequest {
  const b = validateBody(body);
  return { db: validateDbName(b['db'], context), key: validateKey(b['key'], context, 'key', -1), sync: validateSync(b) };
}

/** put, putIfAbsent, append. */
export function validatePutRequest(body: unknown, context: ValidationContext): ValidPutRequest {
  const b = validateBody(body);
  return {
    db: validateDbName(b['db'], context),
    key: validateKey(b['key'], context, 'key', -1),
    value: validateValue(b['value'], context, 'value', -1),
    sync: validateSync(b),
  };
}

/** getMany, existsMany. */
export function validateKeysRequest(body: unknown, context: ValidationContext): ValidKeysRequest {
  const b = validateBody(body);
  return { db: validateDbName(b['db'], context), keys: validateKeyList(b['keys'], context) };
}

/** delMany. */
export function validateKeysWriteRequest(body: unknown, context: ValidationContext): ValidKeysWriteRequest {
  const b = validateBody(body);
  return { db: validateDbName(b['db'], context), keys: validateKeyList(b['keys'], context), sync: validateSync(b) };
}

/** putMany. */
export function validatePutManyRequest(body: unknown, context: ValidationContext): ValidWritesRequest {
  const b = validateBody(body);
  const db = validateDbName(b['db'], context);
  const keys = validateKeyList(b['keys'], context);
  const list = validateList(b['values'], context, 'values');
  if (list.length !== keys.length) {
    throw badRequest(`putMany has ${keys.length} keys but ${list.length} values`,
      { field: 'values', keys: keys.length, values: list.length });
  }
  const values = new Array<Buffer | null>(list.length);
  for (let i = 0; i < list.length; i++) values[i] = validateValue(list[i], context, 'values', i);
  return { db, keys, values, sync: validateSync(b) };
}

/** batch: entries [0, key, value] put, [1, key] delete. */
export function validateBatchRequest(body: unknown, context: ValidationContext): ValidWritesRequest {
  const b = validateBody(body);
  const db = validateDbName(b['db'], context);
  const ops = validateList(b['ops'], context, 'ops');
  const keys = new Array<Buffer>(ops.length);
  const values = new Array<Buffer | null>(ops.length);
  for (let i = 0; i < ops.length; i++) {
    const entry = ops[i];
    if (Array.isArray(entry) && entry[0] === BatchOpCode.put && entry.length === 3) {
      keys[i] = validateKey(entry[1], context, 'ops key', i);
      values[i] = validateValue(entry[2], context, 'ops value', i);
    } else if (Array.isArray(entry) && entry[0] === BatchOpCode.del && entry.length === 2) {
      keys[i] = validateKey(entry[1], context, 'ops key', i);
      values[i] = null;
    } else {
      throw badRequest(`batch entry ${i} must be [${BatchOpCode.put}, key, value] or [${BatchOpCode.del}, key]`,
        { field: 'ops', index: i });
    }
  }
  return { db, keys, values, sync: validateSync(b) };
}

/** stat: one database, or all when `db` is absent (or null, which some encoders make of "absent"). */
export function validateStatRequest(body: unknown, context: ValidationContext): ValidStatRequest {
  const b = validateBody(body);
  const db = b['db'];
  return { db: db === undefined || db === null ? null : validateDbName(db, context) };
}

/** hello: no fields, but still a map. */
export function validateEmptyRequest(body: unknown): void {
  validateBody(body);
}

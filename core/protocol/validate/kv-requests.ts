import { BatchOpCode } from '../messages.js';
import { checkEntries } from '../field-checks.js';
import { expandPackedLists, isPackedRequest } from './packed-lists.js';
import { badRequest, describe, validateBody, validateDbName, validateKey, validateSync, validateValue, type ValidationContext } from './request-fields.js';

/**
 * Checks the bodies of key-value requests before any of them reaches a store: shapes, database
 * names, key and value sizes, entry counts. A request either passes whole or fails with a typed
 * error, so no request is ever partly applied because its tenth entry turned out to be bad.
 */

export interface ValidKeyRequest { db: string; key: Buffer }
export interface ValidKeyWriteRequest extends ValidKeyRequest { sync: boolean }
export interface ValidPutRequest extends ValidKeyWriteRequest { value: Buffer }
export interface ValidKeysRequest { db: string; keys: Buffer[] }
export interface ValidKeysWriteRequest extends ValidKeysRequest { sync: boolean }
/** Puts and deletes side by side: `values[i]` is the value to put at `keys[i]`, or null to delete it. */
export interface ValidWritesRequest extends ValidKeysWriteRequest { values: Array<Buffer | null> }
export interface ValidStatRequest { db: string | null }
export type EmptyRequest = Record<string, never>;

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

/** getMany: keys as a msgpack array or a packed list; `packed` asks for a packed reply (one copy instead of a msgpack bin per value). */
export function validateGetManyRequest(body: unknown, context: ValidationContext): ValidKeysRequest & { packed: boolean } {
  const packed = isPackedRequest(body);
  const { db, keys } = validateKeysRequest(expandPackedLists(body, context.limits.batchEntriesMax), context);
  return { db, keys, packed };
}

/** putMany: keys and values as msgpack arrays or packed lists. */
export function validatePutManyBody(body: unknown, context: ValidationContext): ValidWritesRequest {
  return validatePutManyRequest(expandPackedLists(body, context.limits.batchEntriesMax), context);
}

/** hello, shutdown: no fields, but still a map. */
export function validateEmptyRequest(body: unknown): EmptyRequest {
  validateBody(body);
  return {};
}

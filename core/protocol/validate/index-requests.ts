import { ErrorCodes } from '../../errors.js';
import { entryKey, INDEX_NAME_PATTERN, WRITE_ID_BYTES } from '../../index-entry-key.js';
import { checkKey, limitExceeded } from '../field-checks.js';
import { unpackList } from '../../wire/packed-list.js';
import { optionalKey, pageSize } from './range-requests.js';
import { badRequest, validateBody, validateDbName, validateKey, validateSync, validateValue, type ValidationContext } from './request-fields.js';
import { asBuffer } from '../../wire/as-buffer.js';

/**
 * Validation of the secondary-index ops (indexWrite, indexLookup, indexGet): every field is
 * checked, before any store is touched, like every other request (kv-requests.ts).
 */

export interface ValidIndexScope { db: string; indexDb: string; index: Buffer }
export interface ValidIndexPart { indexDb: string; index: Buffer; local: boolean; secondaryKeys: Buffer[] }
export interface ValidIndexWrite {
  db: string; key: Buffer; value: Buffer | null; writeId: Buffer; indexes: ValidIndexPart[]; sync: boolean;
  /** Backfill: apply only while the stored value is `value` (never null then). */
  ifStored: boolean;
}
export interface ValidIndexLookup extends ValidIndexScope {
  range: { gt?: Buffer; gte?: Buffer; lt?: Buffer; lte?: Buffer };
  limit: number;
  pageBytes: number;
}
export interface ValidIndexGet extends ValidIndexScope { keys: Buffer[]; writeIds: Buffer[] }

/** An index namespace: UTF-8 of a valid index name, then 0x00. */
function validateNamespace(value: unknown, field: string): Buffer {
  if (!(value instanceof Uint8Array) || value.length < 2 || value[value.length - 1] !== 0) {
    throw badRequest(`field "${field}" must be an index name followed by a 0x00 byte`, { field });
  }
  const name = Buffer.from(value.subarray(0, value.length - 1)).toString('utf8');
  if (!INDEX_NAME_PATTERN.test(name)) throw badRequest(`field "${field}" is not a valid index name`, { field });
  return asBuffer(value);
}

function validateScope(b: Record<string, unknown>, context: ValidationContext): ValidIndexScope {
  return {
    db: validateDbName(b['db'], context),
    indexDb: validateDbName(b['indexDb'], context),
    index: validateNamespace(b['index'], 'index'),
  };
}

function validateWriteId(value: unknown, field: string, index: number): Buffer {
  if (!(value instanceof Uint8Array) || value.length !== WRITE_ID_BYTES) {
    throw badRequest(`${field} must be ${WRITE_ID_BYTES} bytes`, index >= 0 ? { field, index } : { field });
  }
  return asBuffer(value);
}

function validatePart(value: unknown, i: number, context: ValidationContext): ValidIndexPart {
  const p = validateBody(value);
  const local = p['local'];
  if (typeof local !== 'boolean') throw badRequest(`indexes[${i}].local must be a boolean`, { field: 'local', index: i });
  const keys = p['secondaryKeys'];
  if (!Array.isArray(keys)) throw badRequest(`indexes[${i}].secondaryKeys must be an array`, { field: 'secondaryKeys', index: i });
  const max = context.limits.indexKeysPerRecordMax;
  if (keys.length > max) {
    throw limitExceeded(ErrorCodes.BATCH_TOO_LARGE, 'indexKeysPerRecordMax', `indexes[${i}].secondaryKeys`, keys.length, max, 'entries',
      { field: 'secondaryKeys', index: i });
  }
  return {
    indexDb: validateDbName(p['indexDb'], context),
    index: validateNamespace(p['index'], 'index'),
    local,
    secondaryKeys: keys.map((key, j) => validateKey(key, context, `indexes[${i}].secondaryKeys`, j)),
  };
}

export function validateIndexWriteRequest(body: unknown, context: ValidationContext): ValidIndexWrite {
  const b = validateBody(body);
  const db = validateDbName(b['db'], context);
  const key = validateKey(b['key'], context, 'key', -1);
  const value = b['value'] === null ? null : validateValue(b['value'], context, 'value', -1);
  const writeId = validateWriteId(b['writeId'], 'writeId', -1);
  const parts = b['indexes'];
  if (!Array.isArray(parts) || parts.length === 0) throw badRequest('field "indexes" must be a non-empty array of index parts', { field: 'indexes' });
  const partsMax = context.limits.indexesPerWriteMax;
  if (parts.length > partsMax) {
    throw limitExceeded(ErrorCodes.BATCH_TOO_LARGE, 'indexesPerWriteMax', 'the indexes of an indexed write', parts.length, partsMax, 'entries', { field: 'indexes' });
  }
  const ifStored = b['ifStored'] ?? false;
  if (typeof ifStored !== 'boolean') throw badRequest('field "ifStored" must be a boolean', { field: 'ifStored' });
  if (ifStored && value === null) throw badRequest('an ifStored write needs the value it expects stored', { field: 'ifStored' });
  const indexes = parts.map((part, i) => validatePart(part, i, context));
  for (const part of indexes) {
    // An entry key holds the secondary and the primary key: it must fit keyBytesMax too (the client checks the same).
    for (const s of part.secondaryKeys) checkKey(entryKey(part.index, s, key, writeId), context.limits, { field: 'secondaryKeys' });
  }
  const seen = new Set<string>();
  for (const part of indexes) {
    const id = `${part.indexDb}\u0000${part.index.toString('latin1')}`;
    if (seen.has(id)) throw badRequest('an indexed write names the same index twice', { field: 'indexes' });
    seen.add(id);
  }
  return { db, key, value, writeId, indexes, sync: validateSync(b), ifStored };
}

export function validateIndexLookupRequest(body: unknown, context: ValidationContext): ValidIndexLookup {
  const b = validateBody(body);
  const scope = validateScope(b, context);
  const range: ValidIndexLookup['range'] = {};
  for (const bound of ['gt', 'gte', 'lt', 'lte'] as const) {
    const key = optionalKey(b, bound, context);
    if (key !== undefined) range[bound] = key;
  }
  if (range.gt !== undefined && range.gte !== undefined) throw badRequest('a range takes gt or gte, not both', { field: 'gte' });
  if (range.lt !== undefined && range.lte !== undefined) throw badRequest('a range takes lt or lte, not both', { field: 'lte' });
  return {
    ...scope,
    range,
    limit: pageSize(b, 'limit', context.limits.scanPageEntriesMax),
    pageBytes: pageSize(b, 'pageBytes', context.limits.scanPageBytesMax),
  };
}

export function validateIndexGetRequest(body: unknown, context: ValidationContext): ValidIndexGet {
  const b = validateBody(body);
  const scope = validateScope(b, context);
  const max = context.limits.batchEntriesMax;
  const keys = unpackList(b['packedKeys'], 'packedKeys', max).map((key, i) => validateKey(key, context, 'packedKeys', i));
  const writeIds = unpackList(b['packedWriteIds'], 'packedWriteIds', max).map((id, i) => validateWriteId(id, 'packedWriteIds', i));
  if (writeIds.length !== keys.length) {
    throw badRequest(`indexGet has ${keys.length} keys but ${writeIds.length} write ids`, { field: 'packedWriteIds' });
  }
  return { ...scope, keys, writeIds };
}

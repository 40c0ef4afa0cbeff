import { checkEntries } from '../field-checks.js';
import { checkRegionDescriptor, type RegionDescriptor } from '../../regions/region-descriptor.js';
import { unpackList } from '../../wire/packed-list.js';
import { badRequest, validateBody, validateDbName, validateKey, validateSync, type ValidationContext } from './request-fields.js';
import { asBuffer } from '../../wire/as-buffer.js';
import { validateScanRequest } from './range-requests.js';

/** Requests of client-memory operations (core/protocol/region-messages.ts), checked before any transfer or store access. */

export interface ValidRegionPut { db: string; region: RegionDescriptor; indices: number[] | null; sync: boolean; data: Buffer | null }
export interface ValidRegionStage {
  db: string;
  keys: Buffer[] | null;
  range: { bounds: { gt?: Buffer; gte?: Buffer; lt?: Buffer; lte?: Buffer }; reverse: boolean; limit: number } | null;
  bytesMax: number;
  /** get only: lay out and push at once (every key of the get is on this server). */
  push: { region: RegionDescriptor; layout: 'packed' | 'slots'; slotBytes: number } | null;
}
export interface ValidRegionAttach { owner: string }
export interface ValidRegionRelease { op: number }
export interface ValidTestHold { hold: boolean; afterChunks: number }
export interface ValidRegionPush { op: number; region: RegionDescriptor; placements: number[]; block: Buffer | null; blockOffset: number }

function opId(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw badRequest('field "op" must be a positive integer', { field: 'op' });
  return value;
}

export function validateRegionAttach(body: unknown): ValidRegionAttach {
  const b = validateBody(body);
  if (typeof b['owner'] !== 'string' || !/^[0-9a-f]{32}$/.test(b['owner'])) throw badRequest('field "owner" must be a 32-digit hex id', { field: 'owner' });
  return { owner: b['owner'] };
}

export function validateRegionPut(body: unknown, context: ValidationContext): ValidRegionPut {
  const b = validateBody(body);
  const db = validateDbName(b['db'], context);
  const region = checkRegionDescriptor(b['region']);
  let indices: number[] | null = null;
  const raw = b['indices'];
  if (raw !== undefined && raw !== null) {
    if (!(raw instanceof Uint8Array) || raw.length % 4 !== 0) throw badRequest('field "indices" must be bytes of u32 LE indices', { field: 'indices' });
    const count = raw.length / 4;
    checkEntries(count, context.limits, 'field "indices"', { field: 'indices' });
    const view = asBuffer(raw);
    indices = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      const index = view.readUInt32LE(4 * i);
      if (i > 0 && index <= indices[i - 1]!) throw badRequest('field "indices" must be strictly increasing', { field: 'indices', index: i });
      indices[i] = index;
    }
  }
  const data = b['data'];
  if (data !== undefined && data !== null) {
    if (!(data instanceof Uint8Array) || data.length !== region.length) {
      throw badRequest('field "data" must be the region\'s bytes (as many as its length)', { field: 'data' });
    }
    if (indices !== null) throw badRequest('a put sends data or indices, not both', { field: 'data' });
  }
  return { db, region, indices, sync: validateSync(b), data: data instanceof Uint8Array ? asBuffer(data) : null };
}

export function validateRegionStage(body: unknown, context: ValidationContext): ValidRegionStage {
  const b = validateBody(body);
  const db = validateDbName(b['db'], context);
  const bytesMax = b['bytesMax'];
  if (typeof bytesMax !== 'number' || !Number.isSafeInteger(bytesMax) || bytesMax < 0) throw badRequest('field "bytesMax" must be an integer >= 0', { field: 'bytesMax' });
  const hasKeys = b['packedKeys'] !== undefined && b['packedKeys'] !== null;
  const hasRange = b['range'] !== undefined && b['range'] !== null;
  if (hasKeys === hasRange) throw badRequest('a stage takes packedKeys (get) or range (scan), exactly one');
  if (hasKeys) {
    if (!(b['packedKeys'] instanceof Uint8Array)) throw badRequest('field "packedKeys" must be bytes', { field: 'packedKeys' });
    const keys = unpackList(b['packedKeys'], 'packedKeys', context.limits.batchEntriesMax)
      .map((key, i) => validateKey(key, context, 'packedKeys', i));
    return { db, keys, range: null, bytesMax, push: validatePushNow(b['push']) };
  }
  const range = validateBody(b['range']);
  const limit = range['limit'];
  if (limit !== undefined && limit !== null && (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1)) {
    throw badRequest('field "range.limit" must be a positive integer', { field: 'range.limit' });
  }
  const scan = validateScanRequest({ db, ...range, limit: undefined }, context);
  if (b['push'] !== undefined && b['push'] !== null) throw badRequest('a scan stages, then pushes: field "push" is for a get', { field: 'push' });
  return { db, keys: null, range: { bounds: scan.range, reverse: scan.reverse, limit: typeof limit === 'number' ? limit : Number.MAX_SAFE_INTEGER }, bytesMax, push: null };
}

function validatePushNow(value: unknown): ValidRegionStage['push'] {
  if (value === undefined || value === null) return null;
  const p = validateBody(value);
  const layout = p['layout'];
  if (layout !== 'packed' && layout !== 'slots') throw badRequest(`field "push.layout" must be 'packed' or 'slots'`, { field: 'push.layout' });
  const slotBytes = p['slotBytes'] ?? 0;
  if (typeof slotBytes !== 'number' || !Number.isSafeInteger(slotBytes) || slotBytes < 0 || (layout === 'slots' && slotBytes < 1)) {
    throw badRequest('field "push.slotBytes" must be an integer >= 1 for slots', { field: 'push.slotBytes' });
  }
  return { region: checkRegionDescriptor(p['region']), layout, slotBytes };
}

function numbers(value: unknown, field: string, groupOf: number): number[] {
  if (!Array.isArray(value) || value.length % groupOf !== 0) throw badRequest(`field "${field}" must be an array of ${groupOf}-number groups`, { field });
  for (const n of value) {
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < -1) throw badRequest(`field "${field}" holds integers >= -1 only`, { field });
  }
  return value as number[];
}

export function validatePushRequest(body: unknown): ValidRegionPush {
  const b = validateBody(body);
  const placements = numbers(b['placements'], 'placements', 3);
  for (let i = 0; i < placements.length; i += 3) {
    if (placements[i]! < 0 || placements[i + 1]! < 0 || placements[i + 2]! < 0) throw badRequest('a placement is (entry, offset, cap), each >= 0', { field: 'placements' });
  }
  const block = b['block'];
  if (block !== null && block !== undefined && !(block instanceof Uint8Array)) throw badRequest('field "block" must be bytes or null', { field: 'block' });
  const blockOffset = b['blockOffset'] ?? 0;
  if (typeof blockOffset !== 'number' || !Number.isSafeInteger(blockOffset) || blockOffset < 0) throw badRequest('field "blockOffset" must be an integer >= 0', { field: 'blockOffset' });
  return { op: opId(b['op']), region: checkRegionDescriptor(b['region']), placements, block: block instanceof Uint8Array ? asBuffer(block) : null, blockOffset };
}

export function validateReleaseRequest(body: unknown): ValidRegionRelease {
  return { op: opId(validateBody(body)['op']) };
}

export function validateTestHold(body: unknown): ValidTestHold {
  const b = validateBody(body);
  const hold = b['hold'];
  if (typeof hold !== 'boolean') throw badRequest('field "hold" must be a boolean', { field: 'hold' });
  const after = b['afterChunks'] ?? 0;
  if (typeof after !== 'number' || !Number.isSafeInteger(after) || after < 0) throw badRequest('field "afterChunks" must be an integer >= 0', { field: 'afterChunks' });
  return { hold, afterChunks: after };
}

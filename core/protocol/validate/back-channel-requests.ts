import type { ProcDoneNotice, ProcedureJobState } from '../procedure-messages.js';
import type { RegionDoneNotice, RegionReadRequest } from '../region-messages.js';
import { unpackList } from '../../wire/packed-list.js';
import { badRequest, validateBody } from './request-fields.js';

/**
 * Checks of what a server sends on a client's own connection (the back channel): a server is a
 * peer, not a trusted part of the client, so a malformed pull, push or notice is refused with a
 * typed error before it touches registered memory or resolves a handle.
 */

/** A regionWrite once checked: the pieces to copy, each with its offset in the region. */
export interface ValidRegionWrite {
  region: number;
  pieces: Array<[offset: number, bytes: Uint8Array]>;
}

const JOB_STATES: ReadonlySet<string> = new Set<ProcedureJobState>(['queued', 'running', 'done', 'failed', 'cancelled']);

function integer(b: Record<string, unknown>, op: string, field: string, min: number): number {
  const value = b[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw badRequest(`${op}: field "${field}" must be an integer >= ${min}`, { field });
  }
  return value;
}

export function validateRegionRead(body: unknown): RegionReadRequest {
  const b = validateBody(body);
  return { region: integer(b, 'regionRead', 'region', 0), offset: integer(b, 'regionRead', 'offset', 0), length: integer(b, 'regionRead', 'length', 0) };
}

export function validateRegionWrite(body: unknown): ValidRegionWrite {
  const b = validateBody(body);
  const region = integer(b, 'regionWrite', 'region', 0);
  const offsets = b['offsets'];
  const data = b['data'];
  if (!Array.isArray(offsets) || !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0) || !(data instanceof Uint8Array)) {
    throw badRequest('regionWrite: needs offsets (integers >= 0) and data (a packed list)', { field: 'offsets' });
  }
  const parts = unpackList(data, 'regionWrite data', offsets.length, null);
  if (parts.length !== offsets.length) throw badRequest(`regionWrite: ${offsets.length} offsets for ${parts.length} parts`, { field: 'data' });
  return { region, pieces: parts.map((part, i): [number, Uint8Array] => [offsets[i] as number, part ?? new Uint8Array(0)]) };
}

export function validateRegionDone(body: unknown): RegionDoneNotice {
  const b = validateBody(body);
  const error = b['error'];
  if (error !== null && (typeof error !== 'object' || error === undefined)) throw badRequest('regionDone: field "error" must be an error or null', { field: 'error' });
  return { op: integer(b, 'regionDone', 'op', 1), records: integer(b, 'regionDone', 'records', 0), error: error as RegionDoneNotice['error'] };
}

export function validateProcDone(body: unknown): ProcDoneNotice {
  const b = validateBody(body);
  const state = b['state'];
  if (typeof state !== 'string' || !JOB_STATES.has(state)) throw badRequest('procDone: field "state" must be a job state', { field: 'state' });
  return { job: integer(b, 'procDone', 'job', 1), state: state as ProcedureJobState };
}

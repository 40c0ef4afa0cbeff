import { checkProcedureSpec, type ProcedureSpec } from '../../procedure-spec.js';
import { badRequest, validateBody } from './request-fields.js';
import { validateScanRequest } from './range-requests.js';
import type { ValidationContext } from './request-fields.js';

/** Requests of server-side procedures (core/protocol/procedure-messages.ts), checked before any job starts. */

export interface ValidRegister { spec: ProcedureSpec }
export interface ValidJob { job: number }
export interface ValidProcStage extends ValidJob { bytesMax: number }

export interface ValidExecute {
  db: string;
  hash: string;
  range: { gt?: Buffer; gte?: Buffer; lt?: Buffer; lte?: Buffer };
  reverse: boolean;
  args: unknown;
  scanEntriesMax: number;
  resultBytesMax: number;
}

export function validateRegister(body: unknown): ValidRegister {
  return { spec: checkProcedureSpec(validateBody(body)['spec']) };
}

/** A positive integer budget, lowered to the server's own. */
function budget(value: unknown, field: string, max: number): number {
  if (value === undefined || value === null) return max;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw badRequest(`field "${field}" must be a positive integer`, { field });
  return Math.min(value, max);
}

export function validateExecute(body: unknown, context: ValidationContext): ValidExecute {
  const b = validateBody(body);
  const hash = b['hash'];
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) throw badRequest('field "hash" must be a SHA-256 hex digest', { field: 'hash' });
  const { db, range, reverse } = validateScanRequest({ db: b['db'], gt: b['gt'], gte: b['gte'], lt: b['lt'], lte: b['lte'], reverse: b['reverse'] }, context);
  return {
    db, hash, range, reverse, args: b['args'] ?? null,
    scanEntriesMax: budget(b['scanEntriesMax'], 'scanEntriesMax', context.limits.procedureScanEntriesMax),
    resultBytesMax: budget(b['resultBytesMax'], 'resultBytesMax', context.limits.procedureResultBytesMax),
  };
}

export function validateJobRequest(body: unknown): ValidJob {
  const job = validateBody(body)['job'];
  if (typeof job !== 'number' || !Number.isSafeInteger(job) || job < 1) throw badRequest('field "job" must be a positive integer', { field: 'job' });
  return { job };
}

export function validateStageRequest(body: unknown): ValidProcStage {
  const { job } = validateJobRequest(body);
  const bytesMax = (body as Record<string, unknown>)['bytesMax'];
  if (typeof bytesMax !== 'number' || !Number.isSafeInteger(bytesMax) || bytesMax < 0) {
    throw badRequest('field "bytesMax" must be an integer >= 0', { field: 'bytesMax' });
  }
  return { job, bytesMax };
}

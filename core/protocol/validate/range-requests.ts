import { badRequest, validateBody, validateDbName, validateKey, type ValidationContext } from './request-fields.js';

/** A validated scan page request. Bounds are views of the request's bytes. */
export interface ValidScanRequest {
  db: string;
  range: { gt?: Buffer; gte?: Buffer; lt?: Buffer; lte?: Buffer };
  reverse: boolean;
  limit: number;
  pageBytes: number;
  values: boolean;
  sync: boolean;
}

export function optionalKey(body: Record<string, unknown>, field: string, context: ValidationContext): Buffer | undefined {
  const value = body[field];
  return value === undefined || value === null ? undefined : validateKey(value, context, field, -1);
}

function optionalBoolean(body: Record<string, unknown>, field: string, fallback: boolean): boolean {
  const value = body[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw badRequest(`field "${field}" must be a boolean`, { field });
  return value;
}

/** A positive integer request field, lowered to the server's own maximum (a page size is a hint). */
export function pageSize(body: Record<string, unknown>, field: string, max: number): number {
  const value = body[field];
  if (value === undefined || value === null) return max;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw badRequest(`field "${field}" must be a positive integer`, { field });
  }
  return Math.min(value, max);
}

export function validateScanRequest(body: unknown, context: ValidationContext): ValidScanRequest {
  const b = validateBody(body);
  const db = validateDbName(b['db'], context);
  const range: ValidScanRequest['range'] = {};
  const gt = optionalKey(b, 'gt', context);
  const gte = optionalKey(b, 'gte', context);
  const lt = optionalKey(b, 'lt', context);
  const lte = optionalKey(b, 'lte', context);
  if (gt !== undefined && gte !== undefined) throw badRequest('a range takes gt or gte, not both', { field: 'gte' });
  if (lt !== undefined && lte !== undefined) throw badRequest('a range takes lt or lte, not both', { field: 'lte' });
  if (gt !== undefined) range.gt = gt;
  if (gte !== undefined) range.gte = gte;
  if (lt !== undefined) range.lt = lt;
  if (lte !== undefined) range.lte = lte;
  return {
    db,
    range,
    reverse: optionalBoolean(b, 'reverse', false),
    limit: pageSize(b, 'limit', context.limits.scanPageEntriesMax),
    pageBytes: pageSize(b, 'pageBytes', context.limits.scanPageBytesMax),
    values: optionalBoolean(b, 'values', true),
    sync: optionalBoolean(b, 'sync', false),
  };
}

/** first/last: only a database. */
export function validateDbRequest(body: unknown, context: ValidationContext): { db: string } {
  return { db: validateDbName(validateBody(body)['db'], context) };
}

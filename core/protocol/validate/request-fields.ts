import { ErrorCodes, HpckvError, type ErrorDetails } from '../../errors.js';
import type { Limits } from '../../limits.js';
import { checkDb, checkKey, checkValue, type FieldPlace } from '../field-checks.js';
import { asBuffer } from '../../wire/as-buffer.js';

/**
 * The fields every request validator reads: the body as a map, a database this server owns, a
 * key, a value, the sync flag. Each fault is a BAD_REQUEST (or the limit's own code, from
 * core/protocol/field-checks.ts) naming the field, so one fault reads the same in every op.
 *
 * Checked keys and values are Buffers (a view on the same memory, not a copy), the type
 * classic-level's 'buffer' encoding takes without converting.
 */

export interface ValidationContext {
  readonly limits: Limits;
  /** Whether this server owns the database `name`. */
  ownsDatabase(name: string): boolean;
}

export function badRequest(message: string, details: ErrorDetails = {}): HpckvError {
  return new HpckvError(ErrorCodes.BAD_REQUEST, message, { details });
}

export function describe(value: unknown): string {
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
  return checkDb(value, context);
}


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

import { HpckvError } from '../../errors.js';
import { validatePutManyBody, type ValidWritesRequest } from './kv-requests.js';
import { badRequest, validateBody, type ValidationContext } from './request-fields.js';

/** A part of a putMany sent in parts (core/protocol/messages.ts PutManyPartRequest), checked. */
export interface ValidPutManyPart {
  staging: number;
  part: number;
  last: boolean;
  /**
   * The part's puts, or the typed error that refused them: a part whose entries are bad still
   * names its staging, so the staging can be discarded before the error goes back (nothing of a
   * staging with a bad part is ever written, and its later parts fail too).
   */
  writes: ValidWritesRequest | HpckvError;
}

function counter(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badRequest(`putManyPart needs "${field}", a non-negative integer`, { field });
  }
  return value;
}

export function validatePutManyPart(body: unknown, context: ValidationContext): ValidPutManyPart {
  const b = validateBody(body);
  const staging = counter(b['staging'], 'staging');
  const part = counter(b['part'], 'part');
  const last = b['last'];
  if (typeof last !== 'boolean') throw badRequest('putManyPart needs "last", a boolean', { field: 'last' });
  let writes: ValidWritesRequest | HpckvError;
  try {
    writes = validatePutManyBody(body, context);
  } catch (error) {
    if (!(error instanceof HpckvError)) throw error;
    writes = error;
  }
  return { staging, part, last, writes };
}

/** The BAD_KEY errors of the key codecs, with details a caller can act on without parsing text. */

import { ErrorCodes, HpckvError } from '../errors.js';

/** Why a key was refused; stable strings, carried in `details.reason`. */
export type BadKeyReason =
  | 'wrong type'
  | 'not an integer'
  | 'out of range'
  | 'NaN'
  | 'lone surrogate'
  | 'wrong arity'
  | 'malformed encoding';

export interface BadKeyFacts {
  reason: BadKeyReason;
  /** The expected key type, in the text form of `formatKeyType`. */
  expected: string;
  /** What was found: a JS type name for values (see `jsTypeName`), a short description for bytes. */
  got: string;
  /** Where in a tuple, as component indexes joined by "." (e.g. "1.0"); absent at top level. */
  component?: string;
}

export function badKey(message: string, facts: BadKeyFacts): HpckvError {
  const details: Record<string, string> = { reason: facts.reason, expected: facts.expected, got: facts.got };
  if (facts.component !== undefined && facts.component !== '') details.component = facts.component;
  return new HpckvError(ErrorCodes.BAD_KEY, message, { details });
}

/** A name for the JS type of a value, finer than `typeof` where keys need it (arrays, bytes, null). */
export function jsTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Uint8Array) return 'Uint8Array';
  return typeof value;
}

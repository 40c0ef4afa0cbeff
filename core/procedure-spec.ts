import { createHash } from 'node:crypto';
import { ErrorCodes, HpckvError } from './errors.js';

/**
 * In core because clients name procedures (by hash) and servers compile them.
 * What a client ships to run next to the data: a kind and the source of one JS expression.
 * - filter: a function expression `(key, value, args) => boolean`;
 * - map: a function expression `(key, value, args) => ({ key?, value } | undefined)`, key and value
 *   Uint8Array or string (UTF-8); no key keeps the entry's own;
 * - reduce: an object expression `({ init(args), step(acc, key, value, args), combine(a, b) })`, the
 *   accumulator any structured-clonable value.
 * `key` and `value` are the stored bytes (Uint8Array views, valid during the call).
 */
export type ProcedureKind = 'filter' | 'map' | 'reduce';

/** A procedure; its kind, when the type says which, decides what Client.execute's handle gives. */
export interface ProcedureSpec<K extends ProcedureKind = ProcedureKind> {
  kind: K;
  source: string;
}

/** Longest procedure source, in UTF-16 code units (a guard against junk, not a budget). */
export const PROCEDURE_SOURCE_CHARS_MAX = 1024 * 1024;

export const PROCEDURE_KINDS: readonly ProcedureKind[] = ['filter', 'map', 'reduce'];

/** The name of a procedure: SHA-256 (hex) of `kind + '\n' + source`. */
export function procedureHash(spec: ProcedureSpec): string {
  return createHash('sha256').update(`${spec.kind}\n${spec.source}`, 'utf8').digest('hex');
}

/** Checks a spec received from a peer; HPCKV_ERR_BAD_REQUEST when it is not `{ kind, source }`. */
export function checkProcedureSpec(value: unknown): ProcedureSpec {
  if (typeof value !== 'object' || value === null) {
    throw new HpckvError(ErrorCodes.BAD_REQUEST, 'a procedure is an object { kind, source }', { details: { field: 'procedure' } });
  }
  const { kind, source } = value as { kind?: unknown; source?: unknown };
  if (typeof kind !== 'string' || !(PROCEDURE_KINDS as readonly string[]).includes(kind)) {
    throw new HpckvError(ErrorCodes.BAD_REQUEST, `a procedure's kind is one of ${PROCEDURE_KINDS.join(', ')}, got ${String(kind)}`,
      { details: { field: 'kind' } });
  }
  if (typeof source !== 'string' || source.trim() === '' || source.length > PROCEDURE_SOURCE_CHARS_MAX) {
    throw new HpckvError(ErrorCodes.BAD_REQUEST, `a procedure's source is a non-empty string of at most ${PROCEDURE_SOURCE_CHARS_MAX} characters`,
      { details: { field: 'source' } });
  }
  return { kind: kind as ProcedureKind, source };
}

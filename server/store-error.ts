import { ErrorCodes, HpckvError } from '../core/errors.js';

/** Wraps a LevelDB failure (I/O error, corruption, closed store) in the one error type. */
export function storeError(cause: unknown, db: string, action: string): HpckvError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new HpckvError(ErrorCodes.STORE, `database "${db}": ${action} failed: ${reason}`, { cause, details: { db, action } });
}

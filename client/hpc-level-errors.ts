import { ErrorCodes, HpckvError } from '../core/errors.js';

/** An error with one of abstract-level's codes (`LEVEL_*`); `cause` is the hpckv error behind it. */
export class LevelError extends Error {
  readonly code: string;

  constructor(message: string, code: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'LevelError';
    this.code = code;
  }
}

/** What an aborted iterator call rejects with (code LEVEL_ABORTED, name AbortError, as abstract-level's own). */
export class LevelAbortError extends LevelError {
  constructor(cause?: unknown) {
    super('Operation has been aborted', 'LEVEL_ABORTED', cause);
    this.name = 'AbortError';
  }
}

/** abstract-level's code for each hpckv code that has a counterpart; the rest are LEVEL_REMOTE_ERROR. */
const LEVEL_CODES: Readonly<Partial<Record<string, string>>> = {
  [ErrorCodes.KEY_TOO_LARGE]: 'LEVEL_INVALID_KEY',
  [ErrorCodes.BAD_KEY]: 'LEVEL_INVALID_KEY',
  [ErrorCodes.VALUE_TOO_LARGE]: 'LEVEL_INVALID_VALUE',
  [ErrorCodes.CONNECTION_CLOSED]: 'LEVEL_CONNECTION_LOST',
  [ErrorCodes.CONNECT_FAILED]: 'LEVEL_CONNECTION_LOST',
  [ErrorCodes.SHUTTING_DOWN]: 'LEVEL_CONNECTION_LOST',
  [ErrorCodes.STORE]: 'LEVEL_IO_ERROR',
  [ErrorCodes.UNKNOWN_DATABASE]: 'LEVEL_DATABASE_NOT_OPEN',
};

/**
 * An hpckv error as abstract-level callers expect it: a LEVEL_* code (the hpckv error kept as
 * `cause`, its code also as `hpckvCode`); an abort is LEVEL_ABORTED. Other errors (TypeErrors,
 * errors that already carry a LEVEL_ code) pass through unchanged.
 */
export function toLevelError(error: unknown): unknown {
  if (!(error instanceof HpckvError)) return error;
  if (error.code === ErrorCodes.ABORTED) return new LevelAbortError(error);
  const mapped = new LevelError(error.message, LEVEL_CODES[error.code] ?? 'LEVEL_REMOTE_ERROR', error);
  return Object.assign(mapped, { hpckvCode: error.code });
}

/** Runs `work`, turning an hpckv failure into a LEVEL_* error. */
export async function levelCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toLevelError(error);
  }
}

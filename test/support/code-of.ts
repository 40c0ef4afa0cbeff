import { HpckvError } from '../../core/errors.js';

/** The HPCKV_ERR_* code `run` throws synchronously (the message of anything else), or undefined when it returns. */
export function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof HpckvError ? error.code : String(error);
  }
  return undefined;
}

import { ErrorCodes, HpckvError } from '../core/errors.js';
import { IsolateRunner } from './isolate-runner.js';
import { checkProcedureSpec, procedureHash, type ProcedureSpec } from './procedure-spec.js';

export interface CombineOptions {
  /** CPU and wall time the whole merge may take, in milliseconds (default 10000). */
  timeoutMs?: number;
  /** Memory of the tiny isolate, in MiB (default 16). */
  memoryMb?: number;
}

/**
 * Merges reduce partials (one per server) on the client: a left fold of the spec's `combine`
 * (`combine(combine(p0, p1), p2)...`), run in a fresh, tiny isolate in this process under the same
 * sandbox rules as on the servers. A single partial is returned as it is; none is BAD_REQUEST.
 */
export async function combineReductions(spec: ProcedureSpec, partials: unknown[], options: CombineOptions = {}): Promise<unknown> {
  const checked = checkProcedureSpec(spec);
  if (checked.kind !== 'reduce') throw new HpckvError(ErrorCodes.BAD_REQUEST, `only a reduce combines partials, not a ${checked.kind}`);
  if (!Array.isArray(partials) || partials.length === 0) {
    throw new HpckvError(ErrorCodes.BAD_REQUEST, 'combineReductions needs at least one partial');
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const runner = await IsolateRunner.create(options.memoryMb ?? 16, 'bytes', 1);
  try {
    return await runner.combine(procedureHash(checked), checked, partials, { cpuMsMax: timeoutMs, wallMsMax: timeoutMs });
  } finally {
    runner.dispose();
  }
}

/** Server-side procedures: the sandbox library (see README.md). */
export { checkProcedureSpec, procedureHash, PROCEDURE_KINDS, type ProcedureKind, type ProcedureSpec } from './procedure-spec.js';
export { SandboxPool, type SandboxPoolOptions } from './sandbox-pool.js';
export type { JobBudget } from './isolate-runner.js';
export type { MapOutput, PackedEntries } from './batch-layout.js';
export type { ProcedureJob } from './procedure-job.js';

import type { WireError } from '../core/errors.js';
import type { CallOp, JobBudget } from './isolate-runner.js';
import type { ProcedureSpec } from './procedure-spec.js';

/** How a sandbox process starts (its one argument, as JSON). */
export interface SandboxProcessInit {
  isolateMemoryMbMax: number;
  compiledProceduresMax: number;
  /** The parsed key type (core/keys KeyType), as JSON. */
  keyType: unknown;
}

/** Host to sandbox process (IPC, advanced serialization: ArrayBuffers travel as they are). */
export type SandboxRequest =
  | { id: number; op: 'compile'; hash: string; spec: ProcedureSpec; timeoutMs: number }
  /** `cpuMsSpent`: CPU the job already used in sandbox processes lost under it (counted against its budget). */
  | { id: number; op: 'start'; jobId: number; hash: string; spec: ProcedureSpec; args: unknown; budget: JobBudget; cpuMsSpent: number }
  | { id: number; op: 'call'; jobId: number; call: CallOp; input: ArrayBuffer | undefined }
  | { id: number; op: 'dispose'; jobId: number };

/** Sandbox process to host. `fatal`: the isolate is gone (the process exits after this reply). */
export type SandboxReply =
  | { ready: true }
  | { id: number; ok: true; value: unknown; cpuMs: number; compiled: boolean }
  | { id: number; ok: false; error: WireError; fatal: boolean; cpuMs: number };

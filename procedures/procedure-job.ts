import { ErrorCodes, HpckvError } from '../core/errors.js';
import { packEntries, unpackMapOutputs, type MapOutput, type PackedEntries } from './batch-layout.js';
import type { CallOp, JobBudget } from './isolate-runner.js';
import type { ProcedureKind } from './procedure-spec.js';
import type { SandboxProcess } from './sandbox-process.js';

/** A job's sandbox state; its calls run in order in the job's isolate. */
export interface ProcedureJob {
  readonly kind: ProcedureKind;
  /** The indices of the batch's entries that pass (ascending). */
  filter(batch: PackedEntries): Promise<number[]>;
  map(batch: PackedEntries): Promise<MapOutput[]>;
  /** reduce: folds the batch into the accumulator, which stays inside the isolate. */
  step(batch: PackedEntries): Promise<void>;
  /** reduce: the accumulator (a structured clone). */
  result(): Promise<unknown>;
  /** CPU used so far by this job, in milliseconds. */
  readonly cpuMs: number;
  dispose(): void;
}

/** Grace beyond a call's wallMsMax before the host stops waiting for its sandbox process. */
const WATCHDOG_GRACE_MS = 10_000;

export class SandboxJob implements ProcedureJob {
  private cpuUsedMs: number;
  private disposed = false;

  constructor(readonly kind: ProcedureKind, private readonly id: number, private readonly process: SandboxProcess,
    private readonly budget: JobBudget, cpuMs: number) {
    this.cpuUsedMs = cpuMs;
  }

  get cpuMs(): number {
    return this.cpuUsedMs;
  }

  async filter(batch: PackedEntries): Promise<number[]> {
    return Array.from(new Uint32Array(await this.call('filter', 'filter', batch) as ArrayBuffer));
  }

  async map(batch: PackedEntries): Promise<MapOutput[]> {
    return unpackMapOutputs(await this.call('map', 'map', batch) as ArrayBuffer);
  }

  async step(batch: PackedEntries): Promise<void> {
    await this.call('reduce', 'step', batch);
  }

  result(): Promise<unknown> {
    return this.call('reduce', 'result', undefined);
  }

  private async call(kind: ProcedureKind, op: CallOp, batch: PackedEntries | undefined): Promise<unknown> {
    if (this.disposed) throw new HpckvError(ErrorCodes.BAD_REQUEST, 'procedure job is disposed');
    if (kind !== this.kind) throw new HpckvError(ErrorCodes.BAD_REQUEST, `a ${this.kind} job has no ${op}`);
    const input = batch === undefined ? undefined : packEntries(batch);
    try {
      const answer = await this.process.request({ op: 'call', jobId: this.id, call: op, input }, this.budget.wallMsMax + WATCHDOG_GRACE_MS);
      this.cpuUsedMs = answer.cpuMs;
      return answer.value;
    } catch (error) {
      const cpuMs = (error as { cpuMs?: number }).cpuMs;
      if (typeof cpuMs === 'number' && cpuMs > 0) this.cpuUsedMs = cpuMs;
      throw error;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.process.notify({ op: 'dispose', jobId: this.id });
  }
}

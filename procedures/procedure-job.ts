import { ErrorCodes, HpckvError } from '../core/errors.js';
import { packEntries, unpackMapOutputs, type MapOutput, type PackedEntries } from './batch-layout.js';
import type { CallOp, JobBudget } from './isolate-runner.js';
import type { ProcedureKind } from './procedure-spec.js';
import { lostTooOften, SANDBOX_LOSSES_MAX, SandboxLost } from './sandbox-lost.js';
import type { SandboxProcess } from './sandbox-process.js';

/** A job's sandbox state; its calls run in order in the job's isolate. */
export interface ProcedureJob {
  readonly kind: ProcedureKind;
  /** The indices of the batch's entries that pass (ascending). */
  filter(batch: PackedEntries): Promise<number[]>;
  map(batch: PackedEntries): Promise<MapOutput[]>;
  /**
   * reduce: folds the batch into the accumulator, which stays inside the isolate. A reduce whose
   * process is lost under it (another job's fault) fails its calls with SandboxLost: the
   * accumulator went with the isolate, so only its caller can run it again (from the start).
   */
  step(batch: PackedEntries): Promise<void>;
  /** reduce: the accumulator (a structured clone). */
  result(): Promise<unknown>;
  /** CPU used so far by this job, in milliseconds. */
  readonly cpuMs: number;
  dispose(): void;
}

/** Grace beyond a call's (or a start's, or a compile's) wall time before the host stops waiting for its sandbox process. */
export const WATCHDOG_GRACE_MS = 10_000;

/** Where a job runs: its sandbox process, its id there, and its CPU so far. */
export interface JobPlace {
  process: SandboxProcess;
  jobId: number;
  cpuMs: number;
}

/** Starts the job again in its slot's live process, carrying the CPU it has used. */
export type JobRestart = (cpuMsSpent: number) => Promise<JobPlace>;

/**
 * A job's handle on the host. A filter's or map's call whose process is lost under it (it was a
 * bystander) starts the job again in the replacement and sends the batch again: those calls keep
 * no state between batches. Every call of the culprit's own job fails with the culprit's error.
 */
export class SandboxJob implements ProcedureJob {
  private place: JobPlace;
  private moving: Promise<void> | undefined;
  private disposed = false;
  /** What the job failed with: its later calls fail the same, so a culprit is never started again in a replacement. */
  private failed: unknown;

  constructor(readonly kind: ProcedureKind, place: JobPlace, private readonly budget: JobBudget, private readonly restart: JobRestart) {
    this.place = place;
  }

  get cpuMs(): number {
    return this.place.cpuMs;
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
    if (this.failed !== undefined) throw this.failed;
    for (let losses = 0; ; losses++) {
      const { process, jobId } = this.place;
      try {
        // Packed per attempt: the IPC send copies it, but a retry must not depend on that.
        const input = batch === undefined ? undefined : packEntries(batch);
        const answer = await process.request({ op: 'call', jobId, call: op, input }, this.budget.wallMsMax + WATCHDOG_GRACE_MS);
        this.place.cpuMs = answer.cpuMs;
        return answer.value;
      } catch (error) {
        const cpuMs = (error as { cpuMs?: number }).cpuMs;
        if (typeof cpuMs === 'number' && cpuMs > 0) this.place.cpuMs = cpuMs;
        if (!(error instanceof SandboxLost)) this.failed ??= error;
        if (!(error instanceof SandboxLost) || this.kind === 'reduce') throw error;
        if (losses >= SANDBOX_LOSSES_MAX) throw lostTooOften(losses + 1);
        await this.moveFrom(process);
      }
    }
  }

  /** Starts the job in the replacement of `lost`, once for all the calls that were lost with it. */
  private async moveFrom(lost: SandboxProcess): Promise<void> {
    if (this.place.process !== lost) return;
    this.moving ??= this.restart(this.place.cpuMs).then((place) => {
      this.place = place;
      if (this.disposed) place.process.notify({ op: 'dispose', jobId: place.jobId });
    }).finally(() => { this.moving = undefined; });
    await this.moving;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.place.process.notify({ op: 'dispose', jobId: this.place.jobId });
  }
}

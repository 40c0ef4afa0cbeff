import { ErrorCodes, HpckvError } from '../core/errors.js';
import { parseKeyType } from '../core/keys/index.js';
import type { JobBudget } from './isolate-runner.js';
import { LruMap } from './lru-map.js';
import { SandboxJob, WATCHDOG_GRACE_MS, type JobPlace, type ProcedureJob } from './procedure-job.js';
import { checkProcedureSpec, procedureHash, type ProcedureSpec } from './procedure-spec.js';
import type { SandboxProcessInit } from './sandbox-messages.js';
import { lostTooOften, SANDBOX_LOSSES_MAX, SandboxLost } from './sandbox-lost.js';
import { SandboxProcess } from './sandbox-process.js';

export type { JobBudget } from './isolate-runner.js';
export type { MapOutput, PackedEntries } from './batch-layout.js';
export type { ProcedureJob } from './procedure-job.js';
export { SANDBOX_LOSSES_MAX, SandboxLost, lostTooOften } from './sandbox-lost.js';

export interface SandboxPoolOptions {
  /** Long-lived isolates in the pool, each in its own process (limits.procedureIsolatesMax). */
  isolates: number;
  /** isolated-vm memoryLimit of each isolate, in MiB (limits.procedureIsolateMemoryMbMax). */
  isolateMemoryMbMax: number;
  /** Compiled procedures kept, LRU by hash (limits.proceduresCompiledMax). */
  compiledProceduresMax: number;
  /** The store's key type text, for `hpckv.decodeKey`. */
  keyType: string;
  /** Wall time a registration's shape check may run, in milliseconds (default 1000). */
  registerWallMsMax?: number;
}

/**
 * The isolates that run procedures. `register` compiles a procedure in one isolate (syntax and
 * shape checked there) and keeps its spec in an LRU by hash; each isolate compiles it again
 * lazily, once, when it first starts a job of it (so a replaced isolate, or a second one, pays
 * only for procedures it runs). Jobs go to the isolates round-robin. A job stays in its slot: when
 * the slot's process ends under a request that was not the culprit's (SandboxLost), the request
 * runs again in the replacement.
 */
export class SandboxPool {
  private readonly specs: LruMap<string, ProcedureSpec>;
  private readonly slots: Array<Promise<SandboxProcess>>;
  /** Each slot's process once it is up, so its end is told from an older one's synchronously. */
  private readonly live: Array<SandboxProcess | undefined> = [];
  private readonly init: SandboxProcessInit;
  private nextSlot = 0;
  private nextJobId = 1;
  private closed = false;
  readonly stats = { isolatesReplaced: 0, compiled: 0, registrationHits: 0 };

  private constructor(private readonly options: SandboxPoolOptions) {
    this.specs = new LruMap(options.compiledProceduresMax);
    this.init = { isolateMemoryMbMax: options.isolateMemoryMbMax, compiledProceduresMax: options.compiledProceduresMax,
      keyType: parseKeyType(options.keyType) };
    this.slots = [];
  }

  static async create(options: SandboxPoolOptions): Promise<SandboxPool> {
    for (const name of ['isolates', 'isolateMemoryMbMax', 'compiledProceduresMax'] as const) {
      if (!Number.isSafeInteger(options[name]) || options[name] < 1) {
        throw new HpckvError(ErrorCodes.BAD_CONFIG, `sandbox pool ${name} must be a positive integer, got ${options[name]}`);
      }
    }
    if (options.isolateMemoryMbMax < 8) throw new HpckvError(ErrorCodes.BAD_CONFIG, 'sandbox pool isolateMemoryMbMax must be at least 8');
    const pool = new SandboxPool(options);
    for (let i = 0; i < options.isolates; i++) pool.slots.push(pool.spawn(i));
    await Promise.all(pool.slots);
    return pool;
  }

  private spawn(slot: number): Promise<SandboxProcess> {
    return SandboxProcess.spawn(this.init, (ended) => this.replace(slot, ended)).then((process) => {
      this.live[slot] = process;
      return process;
    });
  }

  /** Called as a process ends, before its bystanders hear of it: their retries find the replacement. */
  private replace(slot: number, ended: SandboxProcess): void {
    if (this.closed || this.live[slot] !== ended) return;
    this.live[slot] = undefined;
    this.stats.isolatesReplaced++;
    this.slots[slot] = this.spawn(slot);
  }

  private pickSlot(): number {
    if (this.closed) throw new HpckvError(ErrorCodes.SHUTTING_DOWN, 'sandbox pool is closed');
    const slot = this.nextSlot;
    this.nextSlot = (this.nextSlot + 1) % this.slots.length;
    return slot;
  }

  /** Runs `attempt` in the slot's process, again in its replacement while it is only a bystander of its end. */
  private async inSlot<T>(slot: number, attempt: (process: SandboxProcess) => Promise<T>): Promise<T> {
    for (let losses = 0; ; losses++) {
      if (this.closed) throw new HpckvError(ErrorCodes.SHUTTING_DOWN, 'sandbox pool is closed');
      try {
        return await attempt(await this.slots[slot]!);
      } catch (error) {
        if (!(error instanceof SandboxLost)) throw error;
        if (losses >= SANDBOX_LOSSES_MAX) throw lostTooOften(losses + 1);
      }
    }
  }

  /** Compiles (and caches, LRU) a procedure; HPCKV_ERR_PROCEDURE_SYNTAX for a syntax error or a wrong shape. */
  async register(spec: ProcedureSpec): Promise<string> {
    const checked = checkProcedureSpec(spec);
    const hash = procedureHash(checked);
    if (this.specs.get(hash) !== undefined) {
      this.stats.registrationHits++;
      return hash;
    }
    const timeoutMs = this.options.registerWallMsMax ?? 1000;
    // Watched like a call: one stuck in a builtin that ignores its timeout would hold every request queued behind it.
    const answer = await this.inSlot(this.pickSlot(),
      (process) => process.request({ op: 'compile', hash, spec: checked, timeoutMs }, timeoutMs + WATCHDOG_GRACE_MS));
    if (answer.compiled) this.stats.compiled++;
    this.specs.set(hash, { kind: checked.kind, source: checked.source });
    return hash;
  }

  knows(hash: string): boolean {
    return this.specs.has(hash);
  }

  /**
   * A job's sandbox state; HPCKV_ERR_UNKNOWN_PROCEDURE for a hash not registered (or evicted).
   * `cpuMsSpent`: CPU the job already used in an earlier run (a reduce run again), counted against
   * `budget.cpuMsMax`.
   */
  async startJob(hash: string, args: unknown, budget: JobBudget, cpuMsSpent = 0): Promise<ProcedureJob> {
    const spec = this.specs.get(hash);
    if (spec === undefined) {
      throw new HpckvError(ErrorCodes.UNKNOWN_PROCEDURE, `no procedure ${hash} is registered`, { details: { hash } });
    }
    for (const name of ['cpuMsMax', 'wallMsMax'] as const) {
      if (typeof budget?.[name] !== 'number' || !(budget[name] > 0)) {
        throw new HpckvError(ErrorCodes.BAD_REQUEST, `a job budget's ${name} is a positive number`);
      }
    }
    const slot = this.pickSlot();
    const jobBudget = { cpuMsMax: budget.cpuMsMax, wallMsMax: budget.wallMsMax };
    // The spec is captured here: a start again after a loss does not depend on the LRU keeping it.
    const start = (spent: number): Promise<JobPlace> => this.inSlot(slot, async (process) => {
      const jobId = this.nextJobId++;
      const answer = await process.request({ op: 'start', jobId, hash, spec, args, budget: jobBudget, cpuMsSpent: spent },
        jobBudget.wallMsMax + WATCHDOG_GRACE_MS);
      if (answer.compiled) this.stats.compiled++;
      return { process, jobId, cpuMs: answer.cpuMs };
    });
    return new SandboxJob(spec.kind, await start(cpuMsSpent), budget, start);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const slot of this.slots) (await slot.catch(() => undefined))?.kill();
  }
}

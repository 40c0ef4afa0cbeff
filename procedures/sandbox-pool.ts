import { ErrorCodes, HpckvError } from '../core/errors.js';
import { parseKeyType } from '../core/keys/index.js';
import type { JobBudget } from './isolate-runner.js';
import { LruMap } from './lru-map.js';
import { SandboxJob, type ProcedureJob } from './procedure-job.js';
import { checkProcedureSpec, procedureHash, type ProcedureSpec } from './procedure-spec.js';
import type { SandboxProcessInit } from './sandbox-messages.js';
import { SandboxProcess } from './sandbox-process.js';

export type { JobBudget } from './isolate-runner.js';
export type { MapOutput, PackedEntries } from './batch-layout.js';
export type { ProcedureJob } from './procedure-job.js';

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
 * only for procedures it runs). Jobs go to the isolates round-robin.
 */
export class SandboxPool {
  private readonly specs: LruMap<string, ProcedureSpec>;
  private readonly slots: Array<Promise<SandboxProcess>>;
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
    return SandboxProcess.spawn(this.init, (ended) => {
      if (this.closed) return;
      void this.slots[slot]!.then((current) => {
        if (current !== ended || this.closed) return;
        this.stats.isolatesReplaced++;
        this.slots[slot] = this.spawn(slot);
      });
    });
  }

  private pick(): Promise<SandboxProcess> {
    if (this.closed) throw new HpckvError(ErrorCodes.SHUTTING_DOWN, 'sandbox pool is closed');
    const slot = this.nextSlot;
    this.nextSlot = (this.nextSlot + 1) % this.slots.length;
    return this.slots[slot]!;
  }

  /** Compiles (and caches, LRU) a procedure; HPCKV_ERR_PROCEDURE_SYNTAX for a syntax error or a wrong shape. */
  async register(spec: ProcedureSpec): Promise<string> {
    const checked = checkProcedureSpec(spec);
    const hash = procedureHash(checked);
    if (this.specs.get(hash) !== undefined) {
      this.stats.registrationHits++;
      return hash;
    }
    const process = await this.pick();
    const answer = await process.request({ op: 'compile', hash, spec: checked, timeoutMs: this.options.registerWallMsMax ?? 1000 });
    if (answer.compiled) this.stats.compiled++;
    this.specs.set(hash, { kind: checked.kind, source: checked.source });
    return hash;
  }

  knows(hash: string): boolean {
    return this.specs.has(hash);
  }

  /** A job's sandbox state; HPCKV_ERR_UNKNOWN_PROCEDURE for a hash not registered (or evicted). */
  async startJob(hash: string, args: unknown, budget: JobBudget): Promise<ProcedureJob> {
    const spec = this.specs.get(hash);
    if (spec === undefined) {
      throw new HpckvError(ErrorCodes.UNKNOWN_PROCEDURE, `no procedure ${hash} is registered`, { details: { hash } });
    }
    for (const name of ['cpuMsMax', 'wallMsMax'] as const) {
      if (typeof budget?.[name] !== 'number' || !(budget[name] > 0)) {
        throw new HpckvError(ErrorCodes.BAD_REQUEST, `a job budget's ${name} is a positive number`);
      }
    }
    const process = await this.pick();
    const jobId = this.nextJobId++;
    const answer = await process.request({ op: 'start', jobId, hash, spec, args, budget: { cpuMsMax: budget.cpuMsMax, wallMsMax: budget.wallMsMax } });
    if (answer.compiled) this.stats.compiled++;
    return new SandboxJob(spec.kind, jobId, process, budget, answer.cpuMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const slot of this.slots) (await slot.catch(() => undefined))?.kill();
  }
}

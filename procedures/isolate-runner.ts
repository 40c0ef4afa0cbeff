import ivm from 'isolated-vm';
import { ErrorCodes, HpckvError, type ErrorCode } from '../core/errors.js';
import type { KeyType } from '../core/keys/index.js';
import { LruMap } from './lru-map.js';
import { OverdueCall } from './overdue-call.js';
import type { ProcedureKind, ProcedureSpec } from './procedure-spec.js';
import { FAILURE_TAG, MEMORY_TAG, SHAPE_TAG, sandboxRuntimeSource } from './sandbox-runtime.js';

export interface JobBudget {
  /** CPU time the job may use over all its calls, in milliseconds. */
  cpuMsMax: number;
  /** Wall time one call may run, in milliseconds. */
  wallMsMax: number;
}

export type CallOp = 'filter' | 'map' | 'step' | 'result';

interface RunnerJob {
  kind: ProcedureKind;
  context: ivm.Context;
  run: ivm.Reference<(op: string, input: unknown) => unknown>;
  budget: JobBudget;
  cpuMs: number;
  failed: HpckvError | undefined;
}

/** The failure a call ended with, and whether it took the isolate with it. */
export class RunnerFailure extends Error {
  constructor(readonly error: HpckvError, readonly fatal: boolean, readonly cpuMs: number) {
    super(error.message);
  }
}

/**
 * One isolated-vm isolate and the jobs running in it, each in its own context (so one job's
 * global or prototype changes never reach another). Scripts are compiled once per isolate: the
 * runtime at creation, a procedure on first use (`compile`, or a job's start), kept in an LRU.
 * Calls are serialized (one at a time), so `isolate.cpuTime` before and after a call is that
 * call's CPU. Every call is an async isolated-vm call with a timeout: it runs on the isolate's
 * own thread, never on the caller's event loop.
 */
export class IsolateRunner {
  private readonly scripts: LruMap<string, ivm.Script>;
  private readonly jobs = new Map<number, RunnerJob>();
  private queue: Promise<unknown> = Promise.resolve();
  compiled = 0;

  /** A call is stuck in a builtin that cannot be stopped (OverdueCall): the isolate is as good as gone. */
  private stuck = false;

  private constructor(private readonly isolate: ivm.Isolate, private readonly runtime: ivm.Script, private readonly memoryMb: number,
    compiledMax: number) {
    this.scripts = new LruMap(compiledMax, (_hash, script) => script.release());
  }

  static async create(memoryMb: number, keyType: KeyType, compiledMax: number): Promise<IsolateRunner> {
    const isolate = new ivm.Isolate({ memoryLimit: memoryMb });
    const runtime = await isolate.compileScript(sandboxRuntimeSource(keyType), { filename: 'hpckv-runtime.js' });
    return new IsolateRunner(isolate, runtime, memoryMb, compiledMax);
  }

  /** The isolate is gone, or stuck for good: the process should end once it has answered. */
  get disposed(): boolean {
    return this.isolate.isDisposed || this.stuck;
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Compiles `spec` (a cache hit if it is known) and checks its shape in a scratch context. */
  compile(hash: string, spec: ProcedureSpec, timeoutMs: number): Promise<{ compiled: boolean }> {
    return this.exclusive(async () => {
      const compiled = !this.scripts.has(hash);
      const script = await this.script(hash, spec);
      const context = await this.isolate.createContext();
      try {
        const bind = await this.runtime.run(context, { reference: true, timeout: timeoutMs });
        const procedure = await script.run(context, { reference: true, timeout: timeoutMs });
        await bind.apply(undefined, ['check', spec.kind, procedure.derefInto()], { timeout: timeoutMs });
      } catch (error) {
        if (compiled) this.forget(hash);
        throw this.classify(error, { wallMsMax: timeoutMs, byCpu: false, syntax: true });
      } finally {
        context.release();
      }
      return { compiled };
    });
  }

  private async script(hash: string, spec: ProcedureSpec): Promise<ivm.Script> {
    const known = this.scripts.get(hash);
    if (known !== undefined) return known;
    let script: ivm.Script;
    try {
      script = await this.isolate.compileScript(`(${spec.source}\n)`, { filename: `procedure-${hash.slice(0, 12)}.js` });
    } catch (error) {
      if (this.isolate.isDisposed) throw this.classify(error, { wallMsMax: 0, byCpu: false });
      throw new HpckvError(ErrorCodes.PROCEDURE_SYNTAX, `procedure does not compile: ${messageOf(error)}`, { details: { hash } });
    }
    this.compiled++;
    this.scripts.set(hash, script);
    return script;
  }

  private forget(hash: string): void {
    this.scripts.delete(hash);
  }

  /**
   * A job's context: the runtime, the procedure, and `bind` (a reduce's `init(args)` runs here,
   * counted to the job). `cpuMsSpent` is what the job used in isolates lost under it: it counts.
   */
  startJob(id: number, hash: string, spec: ProcedureSpec, args: unknown, budget: JobBudget, cpuMsSpent = 0): Promise<{ compiled: boolean; cpuMs: number }> {
    return this.exclusive(async () => {
      const compiled = !this.scripts.has(hash);
      const script = await this.script(hash, spec);
      const context = await this.isolate.createContext();
      const job: RunnerJob = { kind: spec.kind, context, run: undefined as never, budget, cpuMs: cpuMsSpent, failed: undefined };
      try {
        job.run = await this.timed(job, async (timeout) => {
          const bind = await this.runtime.run(context, { reference: true, timeout });
          const procedure = await script.run(context, { reference: true, timeout });
          return await bind.apply(undefined, ['job', spec.kind, procedure.derefInto(), new ivm.ExternalCopy(args).copyInto({ release: true })],
            { timeout, result: { reference: true } }) as ivm.Reference<(op: string, input: unknown) => unknown>;
        });
      } catch (error) {
        context.release();
        throw error;
      }
      this.jobs.set(id, job);
      return { compiled, cpuMs: job.cpuMs };
    });
  }

  /** One batch call (or 'result'); the value comes back in one copy. */
  call(id: number, op: CallOp, input: ArrayBuffer | undefined): Promise<{ value: unknown; cpuMs: number }> {
    return this.exclusive(async () => {
      const job = this.jobs.get(id);
      if (job === undefined) throw new RunnerFailure(new HpckvError(ErrorCodes.BAD_REQUEST, `no procedure job ${id} (disposed?)`), false, 0);
      if (job.failed !== undefined) throw new RunnerFailure(job.failed, false, job.cpuMs);
      // The batch's ArrayBuffer is moved into the isolate, not copied (nothing here reads it again).
      const batch = input === undefined ? undefined : new ivm.ExternalCopy(input, { transferOut: true }).copyInto({ release: true, transferIn: true });
      const value = await this.timed(job, (timeout) => job.run.apply(undefined, [op, batch], { timeout, result: { copy: true } }));
      return { value, cpuMs: job.cpuMs };
    });
  }

  /** Runs `task` with the job's timeout (the smaller of wallMsMax and the CPU left), charging its CPU to the job. */
  private async timed<T>(job: RunnerJob, task: (timeoutMs: number) => Promise<T>): Promise<T> {
    const cpuLeftMs = job.budget.cpuMsMax - job.cpuMs;
    const byCpu = cpuLeftMs < job.budget.wallMsMax;
    const timeoutMs = Math.max(1, Math.ceil(byCpu ? cpuLeftMs : job.budget.wallMsMax));
    const before = this.isolate.cpuTime;
    const overdue = new OverdueCall(timeoutMs, this.memoryMb * 2 ** 20);
    try {
      const running = task(timeoutMs);
      running.catch(() => undefined); // still running when the bomb wins; the process ends then
      const value = await Promise.race([running, overdue.bomb]);
      this.charge(job, before);
      if (job.cpuMs > job.budget.cpuMsMax) throw this.fail(job, budgetError(job), false);
      return value;
    } catch (error) {
      if (error instanceof RunnerFailure) throw error;
      if (overdue.tripped) {
        this.stuck = true;
        throw this.fail(job, error as HpckvError, true);
      }
      this.charge(job, before);
      const failure = this.classify(error, { wallMsMax: job.budget.wallMsMax, byCpu, job });
      throw this.fail(job, failure, this.isolate.isDisposed);
    } finally {
      overdue.stop();
    }
  }

  private charge(job: RunnerJob, before: bigint): void {
    if (!this.isolate.isDisposed) job.cpuMs += Number(this.isolate.cpuTime - before) / 1e6;
  }

  private fail(job: RunnerJob, error: HpckvError, fatal: boolean): RunnerFailure {
    job.failed = error;
    return new RunnerFailure(error, fatal, job.cpuMs);
  }

  /** What an error out of isolated-vm means: memory, timeout or budget, a shape error, or the procedure's own failure. */
  private classify(error: unknown, how: { wallMsMax: number; byCpu: boolean; job?: RunnerJob; syntax?: boolean }): HpckvError {
    if (error instanceof HpckvError) return error;
    const message = messageOf(error);
    if (this.isolate.isDisposed || /memory limit/.test(message)) {
      return new HpckvError(ErrorCodes.PROCEDURE_MEMORY, 'procedure exceeded its isolate memory; the isolate is replaced',
        { details: { limit: 'procedureIsolateMemoryMbMax' } });
    }
    if (message === 'Script execution timed out.') {
      if (how.byCpu && how.job !== undefined) return budgetError(how.job);
      return new HpckvError(ErrorCodes.PROCEDURE_TIMEOUT, `procedure call ran longer than ${how.wallMsMax} ms and was stopped`,
        { details: { limit: 'procedureWallMsMax', wallMsMax: how.wallMsMax } });
    }
    if (message.startsWith(SHAPE_TAG)) {
      return new HpckvError(how.syntax === true ? ErrorCodes.PROCEDURE_SYNTAX : ErrorCodes.PROCEDURE_FAILED, message.slice(SHAPE_TAG.length));
    }
    for (const [tag, code] of [[FAILURE_TAG, ErrorCodes.PROCEDURE_FAILED], [MEMORY_TAG, ErrorCodes.PROCEDURE_MEMORY]] as Array<[string, ErrorCode]>) {
      if (!message.startsWith(tag)) continue;
      let facts: { message: string; entry: number } = { message: message.slice(tag.length), entry: -1 };
      try { facts = JSON.parse(message.slice(tag.length)) as typeof facts; } catch { /* keep the raw text */ }
      const where = facts.entry >= 0 ? ` at batch entry ${facts.entry}` : '';
      return new HpckvError(code, `procedure failed${where}: ${facts.message}`,
        { details: code === ErrorCodes.PROCEDURE_MEMORY ? { entry: facts.entry, limit: 'procedureIsolateMemoryMbMax' } : { entry: facts.entry } });
    }
    return new HpckvError(how.syntax === true ? ErrorCodes.PROCEDURE_SYNTAX : ErrorCodes.PROCEDURE_FAILED, `procedure failed: ${message}`);
  }

  disposeJob(id: number): void {
    const job = this.jobs.get(id);
    if (job === undefined) return;
    this.jobs.delete(id);
    if (!this.isolate.isDisposed) {
      job.run?.release();
      job.context.release();
    }
  }

  dispose(): void {
    this.jobs.clear();
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }
}

function budgetError(job: RunnerJob): HpckvError {
  return new HpckvError(ErrorCodes.PROCEDURE_BUDGET,
    `procedure job used ${Math.round(job.cpuMs)} ms of CPU, above its budget of ${job.budget.cpuMsMax} ms`,
    { details: { limit: 'procedureCpuMsMax', cpuMsMax: job.budget.cpuMsMax, cpuMs: Math.round(job.cpuMs) } });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

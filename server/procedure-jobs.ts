import { ErrorCodes, HpckvError, errorToWire, type WireError } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import type { ProcDoneNotice, ProcPollReply, ProcResultsReply, ProcStageReply, ProcedureJobState } from '../core/protocol/procedure-messages.js';
import type { ProcedureKind } from '../core/procedure-spec.js';
import { PackedListChunks } from '../core/wire/packed-list.js';
import { lostTooOften, SANDBOX_LOSSES_MAX, SandboxLost, type MapOutput, type ProcedureJob, type SandboxPool } from '../procedures/sandbox-pool.js';
import type { Database } from './database.js';
import { pagesOf, type ScanPage } from './ordered-reads.js';
import type { BackChannel } from './regions/region-transfers.js';
import type { RegionStageReply } from '../core/protocol/region-messages.js';
import type { ServiceOps, ValidRequests } from '../core/protocol/op-table.js';
import type { ValidExecute, ValidProcStage } from '../core/protocol/validate/procedure-requests.js';

export interface ProcedureJobsOptions {
  /** Creates the sandbox pool on first use, so a server that runs no procedure never loads isolated-vm. */
  createPool: () => Promise<SandboxPool>;
  limits: Limits;
  rank: number;
  database: (name: string) => Database;
  backChannel: BackChannel;
  /** Stages a job's results for a push into a client region (RegionService.stageEntries). */
  stageEntries: (issuer: number, entries: { keys: Buffer[]; values: Buffer[] }, bytesMax: number, holdMs: number) => RegionStageReply;
}

/**
 * Sandbox calls a job keeps queued at its sandbox process. Two hide the crossing of a batch; a
 * reduce's steps are never dropped (its budget is counted in entries read, decided before a batch
 * goes), while a filter's or map's batch beyond a result budget is dropped unread.
 */
const SANDBOX_CALLS_IN_FLIGHT = 2;

interface SubmittedBatch {
  page: ScanPage;
  /** The page's last key (the resume key if the job stops after this batch). */
  last: Buffer | undefined;
  /** Whether another page was read after this one. */
  more: boolean;
  work: Promise<number[] | MapOutput[] | undefined>;
}

interface Job {
  readonly id: number;
  /** The connection told when the job ends (procWatch moves it to a client's new connection). */
  issuer: number;
  /** Known once the sandbox job started. */
  kind: ProcedureKind | undefined;
  readonly request: ValidExecute;
  state: ProcedureJobState;
  scanned: number;
  matched: number;
  error: WireError | null;
  resume: Buffer | null;
  keys: Buffer[];
  values: Buffer[];
  resultBytes: number;
  acc: unknown;
  cancelled: boolean;
  collect: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The server's job table for server-side procedures: a job runs over this server's part of a
 * range in batches (procedureBatchEntriesMax entries per sandbox call, on the sandbox's own
 * thread, so the event loop keeps serving everyone else), stops at the page's scan or result
 * budget with a resume key, and keeps its state and results until fetched: a client that lost
 * its connection can still poll and fetch them.
 */
export class ProcedureJobs {
  readonly #options: ProcedureJobsOptions;
  readonly #jobs = new Map<number, Job>();
  #nextJob = 1;
  #pool: Promise<SandboxPool> | undefined;

  constructor(options: ProcedureJobsOptions) {
    this.#options = options;
  }

  #sandboxes(): Promise<SandboxPool> {
    this.#pool ??= this.#options.createPool();
    return this.#pool;
  }

  /** Answers a checked procedure request that came on `connectionId`. */
  handle<Op extends ServiceOps<'procedures'>>(op: Op, request: ValidRequests[Op], connectionId: number): unknown {
    return (this.#handlers[op] as (request: ValidRequests[Op], connectionId: number) => unknown)(request, connectionId);
  }

  readonly #handlers: { readonly [Op in ServiceOps<'procedures'>]: (request: ValidRequests[Op], connectionId: number) => unknown } = {
    procRegister: ({ spec }) => this.#sandboxes().then((pool) => pool.register(spec)).then((hash) => ({ hash })),
    procExecute: (request, connectionId) => this.#execute(request, connectionId),
    procPoll: ({ job }) => this.#poll(this.#job(job)),
    procResults: ({ job }) => this.#results(job),
    procStage: (request, connectionId) => this.#stage(request, connectionId),
    procWatch: ({ job: id }, connectionId) => {
      // A client back after losing its connection: this connection now gets the job's notice.
      const job = this.#job(id);
      job.issuer = connectionId;
      if (job.state !== 'queued' && job.state !== 'running') this.#notify(job);
      return null;
    },
    procCancel: ({ job: id }) => {
      const job = this.#job(id);
      job.cancelled = true;
      if (job.state === 'queued') job.state = 'cancelled';
      return null;
    },
  };

  /** Stops every job (the server is closing) and disposes of the sandboxes. */
  async close(): Promise<void> {
    for (const job of this.#jobs.values()) {
      job.cancelled = true;
      if (job.collect !== undefined) clearTimeout(job.collect);
    }
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool !== undefined) await (await pool.catch(() => undefined))?.close();
  }

  #job(id: number): Job {
    const job = this.#jobs.get(id);
    if (job === undefined) {
      throw new HpckvError(ErrorCodes.BAD_REQUEST, `server rank ${this.#options.rank} has no job ${id} (never started here, or its results were fetched)`,
        { details: { job: id } });
    }
    return job;
  }

  async #execute(r: ValidExecute, issuer: number): Promise<{ job: number }> {
    const database = this.#options.database(r.db);
    const pool = await this.#sandboxes();
    if (!pool.knows(r.hash)) {
      throw new HpckvError(ErrorCodes.UNKNOWN_PROCEDURE, `server rank ${this.#options.rank} does not know procedure ${r.hash}: register it first`,
        { details: { hash: r.hash } });
    }
    const running = [...this.#jobs.values()].filter((j) => j.state === 'queued' || j.state === 'running').length;
    const max = this.#options.limits.procedureJobsPerServerMax;
    if (running >= max) {
      throw new HpckvError(ErrorCodes.TOO_MANY_IN_FLIGHT, `server rank ${this.#options.rank} runs ${running} procedure jobs, procedureJobsPerServerMax is ${max}`,
        { details: { limit: 'procedureJobsPerServerMax', max } });
    }
    const id = this.#nextJob;
    this.#nextJob = id >= 0xffff_ffff ? 1 : id + 1;
    const job: Job = {
      id, issuer, kind: undefined, request: r, state: 'queued', scanned: 0, matched: 0, error: null, resume: null,
      keys: [], values: [], resultBytes: 0, acc: undefined, cancelled: false, collect: undefined,
    };
    this.#jobs.set(id, job);
    // Accepted now; the work starts on the next turn, after the acceptance has left.
    setImmediate(() => void this.#run(job, database, pool));
    return { job: id };
  }

  async #run(job: Job, database: Database, pool: SandboxPool): Promise<void> {
    if (job.cancelled) { this.#finish(job, 'cancelled'); return; }
    const limits = this.#options.limits;
    const budget = { cpuMsMax: limits.procedureCpuMsMax, wallMsMax: limits.procedureWallMsMax };
    let sandbox: ProcedureJob | undefined;
    try {
      job.state = 'running';
      for (let losses = 0; ; losses++) {
        // A reduce run again carries the CPU its lost runs used: the budget is the job's, not a run's.
        sandbox = await pool.startJob(job.request.hash, job.request.args, budget, sandbox?.cpuMs ?? 0);
        job.kind = sandbox.kind;
        try {
          if (!await this.#pass(job, database, sandbox)) { this.#finish(job, 'cancelled'); return; }
          break;
        } catch (error) {
          // A reduce's accumulator went with a process another job ended: run it again from the start.
          if (!(error instanceof SandboxLost)) throw error;
          if (losses >= SANDBOX_LOSSES_MAX) throw lostTooOften(losses + 1);
          sandbox.dispose();
          Object.assign(job, { scanned: 0, matched: 0, resume: null });
        }
      }
      this.#finish(job, 'done');
    } catch (error) {
      job.error = errorToWire(error);
      this.#finish(job, 'failed');
    } finally {
      sandbox?.dispose();
    }
  }

  /** One run of the job over its range (a reduce's result included); false if it was cancelled. */
  async #pass(job: Job, database: Database, sandbox: ProcedureJob): Promise<boolean> {
    const limits = this.#options.limits;
    const r = job.request;
    const batchMax = limits.procedureBatchEntriesMax;
    let readEntries = 0;
    // Each page is sized when it is read: at most a batch, and no more than the scan budget left.
    const pages = pagesOf(r.range, r.reverse, (from) => database.scanPage(from,
      { reverse: r.reverse, limit: Math.min(batchMax, r.scanEntriesMax - readEntries), pageBytes: limits.scanPageBytesMax, values: true }));
    let pending: Promise<IteratorResult<ScanPage, void>> | undefined = pages.next();
    const pipeline: SubmittedBatch[] = [];
    try {
      for (;;) {
        // Pages are read ahead and handed to the sandbox before the previous batch's answer is
        // back: its process queues them, so it never idles while a batch crosses over and the
        // answer returns (LevelDB, this event loop and the isolate overlap).
        while (pending !== undefined && pipeline.length < SANDBOX_CALLS_IN_FLIGHT) {
          const next = await pending;
          pending = undefined;
          if (next.done === true) break;
          const page = next.value;
          const n = page.keys.length;
          const last = page.keys[n - 1];
          readEntries += n;
          const more = !page.done && n > 0 && readEntries < r.scanEntriesMax;
          // The next page is read from after this one's last key while this one is in the sandbox.
          if (more) pending = pages.next();
          const work = this.#submit(sandbox, { keys: page.keys, values: page.values! });
          // A batch left behind (cancel, budget, failure) must not surface as an unhandled rejection.
          work.catch(() => undefined);
          pipeline.push({ page, last, more, work });
        }
        const batch = pipeline.shift()!;
        if (job.cancelled) return false;
        this.#absorb(job, batch.page, await batch.work);
        if (batch.page.done || batch.page.keys.length === 0) { job.resume = null; break; }
        if (!batch.more || job.resultBytes >= r.resultBytesMax) { job.resume = batch.last!; break; }
      }
    } finally {
      void pending?.catch(() => undefined);
      void pages.return(undefined).catch(() => undefined);
    }
    if (job.kind === 'reduce') job.acc = await sandbox.result();
    return true;
  }

  /** Adds a batch's answer to the job: a filter's passing entries, a map's outputs, a reduce's count. */
  #absorb(job: Job, page: ScanPage, answer: number[] | MapOutput[] | undefined): void {
    const { keys, values } = page;
    if (job.kind === 'filter') {
      for (const i of answer as number[]) this.#keep(job, keys[i]!, values![i]!);
    } else if (job.kind === 'map') {
      for (const out of answer as MapOutput[]) {
        this.#keep(job, out.key === null ? keys[out.index]! : Buffer.from(out.key.buffer, out.key.byteOffset, out.key.byteLength),
          Buffer.from(out.value.buffer, out.value.byteOffset, out.value.byteLength));
      }
    } else {
      job.matched += keys.length;
    }
    job.scanned += keys.length;
  }

  /**
   * One batch to the sandbox: a filter's passing indices, a map's outputs, or a reduce's step.
   * An empty page (nothing of the range on this server) goes to no sandbox and passes nothing.
   */
  #submit(sandbox: ProcedureJob, batch: { keys: Buffer[]; values: Buffer[] }): Promise<number[] | MapOutput[] | undefined> {
    if (batch.keys.length === 0) return Promise.resolve(sandbox.kind === 'reduce' ? undefined : []);
    if (sandbox.kind === 'filter') return sandbox.filter(batch);
    if (sandbox.kind === 'map') return sandbox.map(batch);
    return sandbox.step(batch).then(() => undefined);
  }

  #keep(job: Job, key: Buffer, value: Buffer): void {
    job.keys.push(key);
    job.values.push(value);
    job.matched++;
    job.resultBytes += key.length + value.length;
  }

  #finish(job: Job, state: ProcedureJobState): void {
    job.state = state;
    job.collect = setTimeout(() => this.#jobs.delete(job.id), this.#options.limits.procedureJobHoldMs);
    job.collect.unref();
    this.#notify(job);
  }

  #notify(job: Job): void {
    const notice: ProcDoneNotice = { job: job.id, state: job.state };
    // The issuer may be gone; the job's state waits for a poll (or a procWatch) either way.
    void this.#options.backChannel.callPeer(job.issuer, 'procDone', notice, this.#options.limits.requestTimeoutMs).catch(() => undefined);
  }

  #poll(job: Job): ProcPollReply {
    return { state: job.state, scanned: job.scanned, matched: job.matched, error: job.error, resume: job.resume };
  }

  /** A finished job, taken out of the table (its results are handed over now). */
  #take(id: number): Job {
    const job = this.#job(id);
    if (job.state === 'queued' || job.state === 'running') {
      throw new HpckvError(ErrorCodes.BAD_REQUEST, `job ${id} is still ${job.state}: wait for procDone or poll`, { details: { job: id } });
    }
    if (job.collect !== undefined) clearTimeout(job.collect);
    this.#jobs.delete(id);
    return job;
  }

  #stage(r: ValidProcStage, issuer: number): ProcStageReply {
    const found = this.#job(r.job);
    if (found.kind === 'reduce') {
      throw new HpckvError(ErrorCodes.BAD_REQUEST, `job ${r.job} is a reduce: its result is one value, not entries to write into a region`,
        { details: { job: r.job } });
    }
    const job = this.#take(r.job);
    // A failed or cancelled job stages nothing (its error or state is in the reply).
    const entries = job.state === 'done' ? { keys: job.keys, values: job.values } : { keys: [], values: [] };
    const stage = this.#options.stageEntries(issuer, entries, r.bytesMax, this.#options.limits.procedureJobHoldMs);
    return { ...this.#poll(job), stage };
  }

  #results(id: number): ProcResultsReply {
    const job = this.#take(id);
    const filterOrMap = job.kind !== 'reduce';
    return {
      ...this.#poll(job),
      keys: filterOrMap ? new PackedListChunks(job.keys) as unknown as Uint8Array : null,
      values: filterOrMap ? new PackedListChunks(job.values) as unknown as Uint8Array : null,
      acc: job.kind === 'reduce' ? job.acc ?? null : null,
    };
  }
}

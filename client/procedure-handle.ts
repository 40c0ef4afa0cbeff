import { ErrorCodes, HpckvError, errorFromWire, isHpckvError } from '../core/errors.js';
import type { KeyValue } from '../core/keys/key-type.js';
import type { Limits } from '../core/limits.js';
import type { ProcDoneNotice, ProcExecuteRequest, ProcResultsReply, ProcedureJobState } from '../core/protocol/procedure-messages.js';
import type { ProcedureSpec } from '../core/procedure-spec.js';
import type { KeyRangeWire, OpName, OpReply, OpRequest } from '../core/protocol/messages.js';
import { resumeAfter } from '../core/protocol/resume-after.js';
import { unpackList } from '../core/wire/packed-list.js';
import type { ServerNotices } from './server-notices.js';
import type { RegionIntoTarget, RegionScanResult } from './region-ops.js';
import type { RegionStageReply } from '../core/protocol/region-messages.js';

/** What a procedure handle needs of its Client. */
export interface ProcedureHost {
  readonly limits: Limits;
  readonly notices: ServerNotices<ProcDoneNotice>;
  call<O extends OpName>(rank: number, op: O, body: OpRequest<O>, options: { timeoutMs?: number; signal?: AbortSignal }): Promise<OpReply<O>>;
  /** Starts a page's job on a server, sending the procedure's body first if the server does not know it. */
  execute(rank: number, request: ProcExecuteRequest): Promise<number>;
  decodeKey(bytes: Uint8Array): KeyValue;
}

export interface ProcedureProgress {
  state: ProcedureJobState;
  /** Entries read so far, over every server and page. */
  scanned: number;
  /** Entries kept (filter), produced (map) or folded (reduce) so far. */
  matched: number;
}

/** What a filter or a map gives without `into`: [key, value] in key order (descending for a reverse range). */
export type ProcedureMatches = Array<[KeyValue, Buffer]>;

/**
 * filter and map: ProcedureMatches, or with `into` a RegionScanResult (what was written into the
 * region); reduce: the combined accumulator. Client.execute types a handle by its spec's kind.
 */
export type ProcedureResult = ProcedureMatches | RegionScanResult | unknown;

/** Times a handle reconnects to one server to keep following a job. */
const RECONNECTS_MAX = 3;

interface Part {
  rank: number;
  job: number;
  /** The page's request (its range is narrowed after each page). */
  request: ProcExecuteRequest;
  done: boolean;
}

/**
 * A running server-side procedure over many servers: returned once every server taking part
 * accepted its job. Pages that stop at a server's scan or result budget are continued from their
 * resume key transparently; `wait()` merges every server's results (or combines the reductions)
 * and resolves with `R`, the result of the procedure's kind (ProcedureResult).
 */
export class ProcedureHandle<R = ProcedureResult> {
  readonly #host: ProcedureHost;
  readonly #spec: ProcedureSpec;
  readonly #reverse: boolean;
  /** The procedure's `args` (a reduce no server took part in is `init(args)`). */
  readonly #args: unknown;
  readonly #parts: Part[];
  /** Progress of pages already finished and fetched. */
  #fetched = { scanned: 0, matched: 0 };
  #kept: Array<[Buffer, Buffer]> = [];
  #partials: unknown[] = [];
  /** With `into`: each page's results, staged on its server for the push into the region. */
  #staged: Array<{ rank: number; reply: RegionStageReply }> = [];
  #cancelled = false;
  #settled: Promise<R> | undefined;
  #state: ProcedureJobState = 'running';

  readonly #into: RegionIntoTarget | undefined;

  constructor(host: ProcedureHost, spec: ProcedureSpec, request: { reverse: boolean; args: unknown },
    parts: Array<{ rank: number; job: number; request: ProcExecuteRequest }>, into?: RegionIntoTarget) {
    this.#host = host;
    this.#into = into;
    this.#spec = spec;
    this.#reverse = request.reverse;
    this.#args = request.args;
    this.#parts = parts.map((p) => ({ ...p, done: false }));
  }

  /** The state and progress over every server, asked now (one small request per running job; never waits for the work). */
  async poll(): Promise<ProcedureProgress> {
    const running = this.#parts.filter((p) => !p.done);
    const replies = await Promise.all(running.map((p) => this.#host.call(p.rank, 'procPoll', { job: p.job }, {})));
    let scanned = this.#fetched.scanned;
    let matched = this.#fetched.matched;
    for (const reply of replies) { scanned += reply.scanned; matched += reply.matched; }
    const states = replies.map((reply) => reply.state);
    let state: ProcedureJobState;
    if (running.length === 0) state = this.#state;
    else if (states.includes('failed')) state = 'failed';
    else if (states.includes('running')) state = 'running';
    else if (states.includes('queued')) state = 'queued';
    else state = this.#cancelled || states.includes('cancelled') ? 'cancelled' : 'done';
    return { state, scanned, matched };
  }

  /** Stops every job of this procedure between batches; wait() then rejects with HPCKV_ERR_ABORTED. */
  async cancel(): Promise<void> {
    this.#cancelled = true;
    await Promise.all(this.#parts.filter((p) => !p.done).map((p) => this.#host.call(p.rank, 'procCancel', { job: p.job }, {}).catch(() => undefined)));
  }

  wait(): Promise<R> {
    // The kind decides the shape (#gather); Client.execute's overloads name it as R.
    this.#settled ??= this.#run() as Promise<R>;
    return this.#settled;
  }

  async #run(): Promise<ProcedureResult> {
    const into = this.#into;
    if (into === undefined) return this.#gather();
    try {
      return await this.#gather();
    } catch (error) {
      await into.discard(this.#staged);
      throw error;
    } finally {
      into.release();
    }
  }

  async #gather(): Promise<ProcedureResult> {
    try {
      await Promise.all(this.#parts.map((part) => this.#follow(part)));
    } catch (error) {
      this.#state = this.#cancelled ? 'cancelled' : 'failed';
      // A job stopped by cancel() may end by its budget first: either way the caller cancelled it.
      if (this.#cancelled) throw new HpckvError(ErrorCodes.ABORTED, 'the procedure was cancelled', { cause: error });
      throw error;
    }
    if (this.#cancelled) {
      this.#state = 'cancelled';
      throw new HpckvError(ErrorCodes.ABORTED, 'the procedure was cancelled');
    }
    this.#state = 'done';
    if (this.#spec.kind === 'reduce') return combine(this.#spec, this.#partials, this.#args);
    if (this.#into !== undefined) return this.#into.write(this.#staged, this.#reverse);
    const order = this.#reverse ? -1 : 1;
    this.#kept.sort((a, b) => order * Buffer.compare(a[0], b[0]));
    return this.#kept.map(([key, value]) => [this.#host.decodeKey(key), value]);
  }

  /** One server's pages, one after another, until its part of the range is done. */
  async #follow(part: Part): Promise<void> {
    for (;;) {
      const notice = await this.#ended(part);
      const results = await this.#reconnecting(() => (this.#into === undefined
        ? this.#host.call(part.rank, 'procResults', { job: part.job }, {})
        : this.#stage(part)));
      this.#take(results);
      if (notice.state === 'cancelled' || this.#cancelled) { part.done = true; return; }
      if (results.state === 'failed') {
        part.done = true;
        throw results.error === null ? new HpckvError(ErrorCodes.INTERNAL, 'a job failed without an error') : errorFromWire(results.error);
      }
      if (results.resume === null) { part.done = true; return; }
      // The next page continues strictly after the last key scanned.
      part.request = resumeAfter(part.request, results.resume, this.#reverse);
      part.job = await this.#host.execute(part.rank, part.request);
    }
  }

  /**
   * Waits for a job's procDone. A lost connection loses the notice, not the job: the server keeps
   * it, so the handle reconnects and asks to be told on the new connection (procWatch), a few
   * times at most.
   */
  async #ended(part: Part): Promise<ProcDoneNotice> {
    let waiting = this.#host.notices.expect(part.rank, part.job);
    for (let attempt = 0; ; attempt++) {
      try {
        return await waiting;
      } catch (error) {
        if (!isHpckvError(error, ErrorCodes.CONNECTION_CLOSED) || attempt >= RECONNECTS_MAX) throw error;
        waiting = (await this.#watch(part)).notice;
      }
    }
  }

  /**
   * Registers for the job's notice again, then asks the server to send it on this client's new
   * connection. A procWatch that meets a connection closing under it is tried again (registered
   * anew: the close may have failed the rank's waiters before this one was registered).
   */
  async #watch(part: Part): Promise<{ notice: Promise<ProcDoneNotice> }> {
    for (let attempt = 0; ; attempt++) {
      // Registered before asking, so a notice sent at once is not missed.
      const notice = this.#host.notices.expect(part.rank, part.job);
      try {
        await this.#host.call(part.rank, 'procWatch', { job: part.job }, {});
        return { notice };
      } catch (error) {
        notice.catch(() => undefined);
        if (!isHpckvError(error, ErrorCodes.CONNECTION_CLOSED) || attempt >= RECONNECTS_MAX) throw error;
      }
    }
  }

  /**
   * A results request whose connection closed under it is sent again on a new one (a connection
   * can close between the job's notice and this request). The server forgets a job once it
   * answered for it, so if it did answer and only the reply was lost, the retry fails with
   * HPCKV_ERR_BAD_REQUEST naming the job: typed, never a silent loss.
   */
  async #reconnecting<T>(request: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await request();
      } catch (error) {
        if (!isHpckvError(error, ErrorCodes.CONNECTION_CLOSED) || attempt >= RECONNECTS_MAX) throw error;
      }
    }
  }

  /** With `into`: the page's results stay on its server, staged for the region push. */
  async #stage(part: Part): Promise<ProcResultsReply> {
    const reply = await this.#host.call(part.rank, 'procStage', { job: part.job, bytesMax: this.#into!.region.length - 4 }, {});
    this.#staged.push({ rank: part.rank, reply: reply.stage });
    return { ...reply, keys: null, values: null, acc: null };
  }

  #take(results: ProcResultsReply): void {
    this.#fetched.scanned += results.scanned;
    this.#fetched.matched += results.matched;
    if (this.#spec.kind === 'reduce') {
      if (results.state === 'done') this.#partials.push(results.acc);
      return;
    }
    if (results.keys === null || results.values === null) return;
    const max = Number.MAX_SAFE_INTEGER;
    const keys = unpackList(results.keys, 'procedure result keys', max, null);
    const values = unpackList(results.values, 'procedure result values', max, null);
    // Views of the reply frame (unpackList copies nothing); the frame lives as long as they do.
    for (let i = 0; i < keys.length; i++) this.#kept.push([keys[i] ?? Buffer.alloc(0), values[i] ?? Buffer.alloc(0)]);
  }
}

/**
 * The reduction's combine over the servers' partial accumulators, run here: it is the caller's
 * own code (the servers ran it sandboxed; the client trusts what it wrote itself). A range no
 * server holds (an empty range of a range table) reduces to `init(args)`, as a server's empty
 * part does, so a reduce always gives an accumulator.
 */
function combine(spec: ProcedureSpec, partials: unknown[], args: unknown): unknown {
  const reduction = new Function(`"use strict"; return (${spec.source});`)() as {
    init?: (args: unknown) => unknown; combine?: (a: unknown, b: unknown) => unknown;
  };
  if (typeof reduction?.combine !== 'function') throw new HpckvError(ErrorCodes.BAD_REQUEST, 'a reduce procedure needs combine(a, b)');
  if (partials.length === 0) {
    if (typeof reduction.init !== 'function') throw new HpckvError(ErrorCodes.BAD_REQUEST, 'a reduce procedure needs init(args)');
    return reduction.init(args);
  }
  return partials.reduce((a, b) => reduction.combine!(a, b));
}

/** The page request for one server (its bounds from the caller's range). */
export function executeRequest(db: string, hash: string, range: KeyRangeWire, reverse: boolean, args: unknown): ProcExecuteRequest {
  return { db, hash, ...range, reverse, args: args ?? null };
}

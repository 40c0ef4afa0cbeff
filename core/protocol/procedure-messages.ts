import type { WireError } from '../errors.js';
import type { ProcedureSpec } from '../procedure-spec.js';
import type { DbRequest, KeyRangeWire } from './request-basics.js';
import type { RegionStageReply } from './region-messages.js';

/**
 * Server-side procedures on the wire. A client names a procedure by its hash (procExecute);
 * a server that does not know it answers HPCKV_ERR_UNKNOWN_PROCEDURE and the client sends the
 * body once (procRegister), then executes again. An execution is a job on each server taking
 * part: accepted at once, run in batches in the server's sandbox pool, stopped at the scan or
 * result budget with a resume key; `procDone` tells the issuing connection it ended, `procPoll`
 * reports progress to anyone who asks, `procResults` hands over the results (and forgets the job),
 * or `procStage` stages them for a push into a client region.
 */

export type ProcedureJobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface ProcRegisterRequest {
  spec: ProcedureSpec;
}

export interface ProcExecuteRequest extends DbRequest, KeyRangeWire {
  hash: string;
  reverse?: boolean;
  /** Passed to the procedure as `args` (msgpack-able). */
  args?: unknown;
  /** This page's budgets, lowered to the server's procedureScanEntriesMax / procedureResultBytesMax. */
  scanEntriesMax?: number;
  resultBytesMax?: number;
}

export interface ProcJobRequest {
  job: number;
}

export interface ProcPollReply {
  state: ProcedureJobState;
  /** Entries the job has read so far. */
  scanned: number;
  /** Entries it kept (filter), produced (map) or folded (reduce). */
  matched: number;
  error: WireError | null;
  /** Set when done at a budget: the last key scanned (continue after it); null when the range is finished. */
  resume: Uint8Array | null;
}

/** filter/map: the kept entries (or map outputs) in scan order as packed lists; reduce: the accumulator. */
export interface ProcResultsReply extends ProcPollReply {
  keys: Uint8Array | null;
  values: Uint8Array | null;
  acc: unknown;
}

/**
 * procStage (a job with `into`): the job's kept entries are staged for a region push instead of
 * sent (as a region scan stages its entries; see core/protocol/region-messages.ts), as many as fit
 * `bytesMax`, and the job is forgotten. filter and map jobs only.
 */
export interface ProcStageRequest extends ProcJobRequest {
  bytesMax: number;
}

export interface ProcStageReply extends ProcPollReply {
  stage: RegionStageReply;
}

/** Server -> issuing client (back channel): the job ended (done, failed or cancelled). */
export interface ProcDoneNotice {
  job: number;
  state: ProcedureJobState;
}

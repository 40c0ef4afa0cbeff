import { Packr } from 'msgpackr';

/**
 * What a ParSplice campaign keeps in the store, and how it is encoded (msgpack, no records, so a
 * server-side procedure can read a field with hpckv.msgpackGet). Workers, the splicer and the
 * launcher share nothing but these databases:
 * - `states`: label -> StateRecord, written once (putIfAbsent): the first worker to find a state
 *   stores it; a later finder's copy is refused and never overwrites it.
 * - `segments`: segmentKey(worker, seq) -> SegmentRecord, written after the state it ends in.
 * - `control`: 'schedule' (the splicer's ScheduleRecord, read by workers before every segment),
 *   'progress' (ProgressRecord), 'splice' (the final SpliceRecord), workerStatsKey(w) (WorkerStats).
 */
export const CAMPAIGN_DATABASES = ['states', 'segments', 'control'] as const;

export interface StateRecord {
  label: string;
  /** Potential energy of the minimized structure (LJ units of epsilon). */
  energy: number;
  atoms: number;
  /** The minimized structure: 3 x atoms float64, little-endian. */
  positions: Uint8Array;
  /** Who stored it: a worker id, or -1 for the launcher's initial state. */
  foundBy: number;
}

export interface SegmentRecord {
  worker: number;
  seq: number;
  /** Label of the state the segment started in, and of the one it ended in (may be the same). */
  start: string;
  end: string;
  /** MD steps of the segment (its length is steps x dt). */
  steps: number;
  transitions: number;
  /** Whether this worker's write of the end state was the one stored (false: it was known). */
  stored: boolean;
  /** sha256 (hex) of the StateRecord bytes this worker offered for the end state. */
  offeredSha: string;
}

export interface ScheduleRecord {
  version: number;
  /** Start states and their weights: workers pick a start state in proportion. */
  entries: Array<[string, number]>;
  segmentSteps: number;
  stop: boolean;
}

export interface ProgressRecord {
  splicedSteps: number;
  segmentsUsed: number;
  segmentsSeen: number;
  statesSeen: number;
  end: string;
  elapsedMs: number;
}

export interface SpliceRecord extends ProgressRecord {
  /** Keys of the spliced segments, in trajectory order. */
  trajectory: string[];
  initial: string;
}

export interface WorkerStats {
  worker: number;
  segments: number;
  steps: number;
  statesStored: number;
  statesKnown: number;
  storeOps: number;
  /** Milliseconds spent waiting on the store, and computing (MD and minimization). */
  storeMs: number;
  computeMs: number;
}

export const SCHEDULE_KEY = 'schedule';
export const PROGRESS_KEY = 'progress';
export const SPLICE_KEY = 'splice';

export function workerStatsKey(worker: number): string {
  return `worker/${String(worker).padStart(3, '0')}`;
}

/** Segment keys sort by worker, then sequence: one worker's segments are one key range. */
export function segmentKey(worker: number, seq: number): string {
  return `${String(worker).padStart(3, '0')}/${String(seq).padStart(9, '0')}`;
}

const packr = new Packr({ useRecords: false, variableMapSize: true });

export function encodeRecord(record: StateRecord | SegmentRecord | ScheduleRecord | ProgressRecord | SpliceRecord | WorkerStats): Buffer {
  return packr.pack(record);
}

export function decodeRecord<T>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
}

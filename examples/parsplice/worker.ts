import { createHash } from 'node:crypto';
import { isHpckvError, ErrorCodes, type Client } from '../../index.js';
import {
  decodeRecord, encodeRecord, SCHEDULE_KEY, segmentKey, workerStatsKey,
  type ScheduleRecord, type SegmentRecord, type StateRecord, type WorkerStats,
} from './campaign-records.js';
import { DEFAULT_SEGMENT, positionsOf, runSegment, seededRandom, toStoredState } from './md/index.js';
import { pickWeighted } from './splice-state.js';

export interface WorkerOptions {
  worker: number;
  seed: number;
}

/**
 * One stateless ParSplice worker: until the schedule says stop, pick a start state by the
 * schedule's weights, fetch it from the store, run a segment, store the end state once (a state
 * someone stored first is left as it is), then record the segment. The state is written before
 * the segment that names it, so no segment ever points at a state the store does not hold.
 */
export async function runWorker(client: Client, options: WorkerOptions): Promise<WorkerStats> {
  const random = seededRandom(options.seed * 7919 + options.worker);
  const stats: WorkerStats = {
    worker: options.worker, segments: 0, steps: 0, statesStored: 0, statesKnown: 0, storeOps: 0, storeMs: 0, computeMs: 0,
  };
  const store = async <T>(work: () => Promise<T>): Promise<T> => {
    const started = process.hrtime.bigint();
    try {
      return await work();
    } finally {
      stats.storeOps++;
      stats.storeMs += Number(process.hrtime.bigint() - started) / 1e6;
    }
  };
  for (let seq = 0; ; seq++) {
    const scheduleBytes = await store(() => client.get(SCHEDULE_KEY, { db: 'control' }));
    if (scheduleBytes === undefined) throw new Error('no schedule in the store: the launcher writes one before starting workers');
    const schedule = decodeRecord<ScheduleRecord>(scheduleBytes);
    if (schedule.stop) break;
    const start = pickWeighted(schedule.entries, random);
    const stateBytes = await store(() => client.get(start, { db: 'states' }));
    if (stateBytes === undefined) throw new Error(`state ${start} is scheduled but not in the store`);
    const state = decodeRecord<StateRecord>(stateBytes);
    const computeStarted = process.hrtime.bigint();
    const segment = runSegment(positionsOf(state), start, {
      ...DEFAULT_SEGMENT, steps: schedule.segmentSteps, seed: (options.seed * 1_000_003 + options.worker * 100_003 + seq) >>> 0,
    });
    stats.computeMs += Number(process.hrtime.bigint() - computeStarted) / 1e6;
    const offered = encodeRecord({ ...toStoredState(segment.endLabel, segment.endEnergy, segment.endMinimized), foundBy: options.worker });
    let stored = false;
    if (segment.endLabel !== start) {
      try {
        await store(() => client.putIfAbsent(segment.endLabel, offered, { db: 'states' }));
        stored = true;
        stats.statesStored++;
      } catch (error) {
        if (!isHpckvError(error, ErrorCodes.KEY_EXISTS)) throw error;
        stats.statesKnown++;
      }
    }
    const record: SegmentRecord = {
      worker: options.worker, seq, start, end: segment.endLabel, steps: segment.steps, transitions: segment.transitions, stored,
      offeredSha: createHash('sha256').update(offered).digest('hex'),
    };
    await store(() => client.put(segmentKey(options.worker, seq), encodeRecord(record), { db: 'segments' }));
    stats.segments++;
    stats.steps += segment.steps;
  }
  await client.put(workerStatsKey(options.worker), encodeRecord(stats), { db: 'control' });
  return stats;
}

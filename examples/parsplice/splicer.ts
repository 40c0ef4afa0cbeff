import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '../../index.js';
import {
  decodeRecord, encodeRecord, PROGRESS_KEY, SCHEDULE_KEY, segmentKey, SPLICE_KEY,
  type ProgressRecord, type ScheduleRecord, type SegmentRecord, type SpliceRecord,
} from './campaign-records.js';
import { seededRandom } from './md/index.js';
import { SpliceState } from './splice-state.js';

export interface SplicerOptions {
  initial: string;
  workers: number;
  segmentSteps: number;
  /** Stop once this many MD steps are spliced, or after `wallMsMax`, whichever comes first. */
  splicedStepsTarget: number;
  wallMsMax: number;
  seed: number;
  /** How long to wait for new segments before looking again (milliseconds). */
  pollMs?: number;
}

/**
 * The splicer: reads the segments the workers store (each worker's next one by its key),
 * splices those that continue the trajectory, and after each round
 * writes a new schedule (virtual-trajectory demand, SpliceState.schedule) and its progress. At the
 * end it tells the workers to stop and stores the spliced trajectory.
 */
export async function runSplicer(client: Client, options: SplicerOptions): Promise<SpliceRecord> {
  const state = new SpliceState(options.initial);
  const random = seededRandom(options.seed ^ 0x5eed);
  const lastSeq = new Array<number>(options.workers).fill(-1);
  const started = Date.now();
  let version = 1;
  const progress = (): ProgressRecord => ({
    splicedSteps: state.splicedSteps, segmentsUsed: state.trajectory.length, segmentsSeen: state.segmentsSeen,
    statesSeen: state.states.size, end: state.end, elapsedMs: Date.now() - started,
  });
  const writeSchedule = (stop: boolean): Promise<void> => {
    const schedule: ScheduleRecord = {
      version: version++, entries: state.schedule(options.workers, 64, random), segmentSteps: options.segmentSteps, stop,
    };
    return client.put(SCHEDULE_KEY, encodeRecord(schedule), { db: 'control' });
  };
  for (;;) {
    // Each worker's next segment has a known key (its sequence numbers have no gaps): one point
    // read per worker, batched into one message per server, instead of a range scan that a hash
    // group must send to every server.
    let fresh = 0;
    for (;;) {
      const keys = lastSeq.map((seq, worker) => segmentKey(worker, seq + 1));
      const found = await client.getMany(keys, { db: 'segments' });
      let round = 0;
      found.forEach((value, worker) => {
        if (value === undefined) return;
        state.add(keys[worker]!, decodeRecord<SegmentRecord>(value));
        lastSeq[worker]!++;
        round++;
      });
      if (round === 0) break;
      fresh += round;
    }
    state.splice();
    const done = state.splicedSteps >= options.splicedStepsTarget || Date.now() - started >= options.wallMsMax;
    if (fresh > 0 || done) {
      await writeSchedule(done);
      await client.put(PROGRESS_KEY, encodeRecord(progress()), { db: 'control' });
    }
    if (done) break;
    if (fresh === 0) await delay(options.pollMs ?? 20);
  }
  const record: SpliceRecord = { ...progress(), trajectory: state.trajectory, initial: options.initial };
  await client.put(SPLICE_KEY, encodeRecord(record), { db: 'control' });
  return record;
}

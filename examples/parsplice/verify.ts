import { createHash } from 'node:crypto';
import type { Client } from '../../index.js';
import { decodeRecord, type SegmentRecord, type SpliceRecord, type StateRecord } from './campaign-records.js';

export interface CampaignCheck {
  /** Spliced segments walked, and those that did not start where the previous one ended. */
  splicedSegments: number;
  breaks: number;
  /** Segments in the store, and the states they name that the store does not hold. */
  segments: number;
  missingStates: number;
  /** States held; those whose bytes are not the copy of the one writer told it stored them (overwritten), or that two writers stored. */
  states: number;
  overwritten: number;
  storedTwice: number;
}

/**
 * Reads the whole campaign back and checks what ParSplice relies on: the spliced trajectory is
 * continuous, every state a segment names is in the store, and each state holds the bytes of
 * the one writer whose write-once put succeeded (the launcher for the initial state).
 */
export async function checkCampaign(client: Client, splice: SpliceRecord, initialSha: string): Promise<CampaignCheck> {
  const segments = new Map<string, SegmentRecord>();
  for await (const [key, value] of client.iterate({ db: 'segments' })) segments.set(String(key), decodeRecord<SegmentRecord>(value!));
  let breaks = 0;
  let end = splice.initial;
  for (const key of splice.trajectory) {
    const segment = segments.get(key);
    if (segment === undefined || segment.start !== end) breaks++;
    end = segment?.end ?? end;
  }
  if (end !== splice.end) breaks++;
  const named = new Set<string>([splice.initial]);
  const storedBy = new Map<string, string[]>([[splice.initial, [initialSha]]]);
  for (const segment of segments.values()) {
    named.add(segment.start);
    named.add(segment.end);
    if (segment.stored) storedBy.set(segment.end, [...(storedBy.get(segment.end) ?? []), segment.offeredSha]);
  }
  const labels = [...named];
  const held = await client.existsMany(labels, { db: 'states' });
  let states = 0;
  let overwritten = 0;
  for await (const [key, value] of client.iterate({ db: 'states' })) {
    states++;
    const label = String(key);
    const sha = createHash('sha256').update(value!).digest('hex');
    const writers = storedBy.get(label) ?? [];
    if (writers.length !== 1 || writers[0] !== sha || decodeRecord<StateRecord>(value!).label !== label) overwritten++;
  }
  return {
    splicedSegments: splice.trajectory.length, breaks, segments: segments.size, missingStates: held.filter((h) => !h).length,
    states, overwritten, storedTwice: [...storedBy.values()].filter((writers) => writers.length > 1).length,
  };
}

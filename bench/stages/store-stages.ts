import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { resolveLimits } from '../../core/limits.js';
import { Database } from '../../server/database.js';
import { benchKey } from '../bench-records.js';
import type { LoopCounts } from './client-stages.js';
import { BULK_RECORDS, freshKeys, values, type Scenario } from './request-shapes.js';
import { consume, roundsOf, timeStage, timeStagePair, type StageTiming, type TimingOptions } from './stage-timers.js';
import type { ReadStored } from './server-stages.js';

export interface StoreTimings {
  /** hpckv's store layer (server/database.ts: its locks, stats, filter, group commit, LevelDB). */
  hpckv: StageTiming;
  /** Raw classic-level doing the same writes or reads. */
  raw: StageTiming;
  /** For a bulk put sent in parts: Database.write of the same records (the one-message path), for comparison. */
  oneMessageWrite?: StageTiming;
}

/** The stores of one scenario: a Database and a raw classic-level, each in a fresh directory. */
export interface ScenarioStores {
  database: Database;
  raw: ClassicLevel<Buffer, Buffer>;
  /** The raw store's getSync, for the stats stage's old-value reads. */
  readStored: ReadStored;
  close(): Promise<void>;
}

export async function openStores(): Promise<ScenarioStores> {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-stage-store-'));
  const database = await Database.open(join(dir, 'hpckv'), 'default', resolveLimits().writeGroupBytesMax);
  const raw = new ClassicLevel<Buffer, Buffer>(join(dir, 'raw'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await raw.open();
  return {
    database, raw, readStored: (key) => raw.getSync(key),
    close: async () => {
      await database.close();
      await raw.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function timeStore(scenario: Scenario, counts: LoopCounts, timing: TimingOptions, stores: ScenarioStores): Promise<StoreTimings> {
  if (scenario.kind === 'get') return timeGets(scenario, counts, timing, stores);
  if (scenario.kind === 'put') return timePuts(scenario, counts, timing, stores);
  return timeBulk(scenario, counts, timing, stores);
}

/**
 * Puts of new keys: one at a time, each awaited; or 64 issued in one turn, then awaited (what a
 * server does with 64 requests that arrive together). Per-op cost either way.
 */
async function timePuts(scenario: Scenario, counts: LoopCounts, timing: TimingOptions, { database, raw }: ScenarioStores): Promise<StoreTimings> {
  const value = values(1, scenario.valueBytes)[0]!;
  const hpckvKeys = freshKeys(roundsOf(timing), counts.iterations);
  const rawKeys = freshKeys(roundsOf(timing), counts.iterations);
  const window = scenario.inFlight;
  const run = (put: (key: Buffer) => Promise<unknown>, keys: Buffer[][]) => async (round: number): Promise<void> => {
    const mine = keys[round]!;
    if (window === 1) {
      for (const key of mine) await put(key);
      return;
    }
    for (let at = 0; at < mine.length; at += window) {
      const pending = new Array<Promise<unknown>>(window);
      for (let i = 0; i < window; i++) pending[i] = put(mine[at + i]!);
      await Promise.all(pending);
    }
  };
  const [hpckv, rawTiming] = await timeStagePair(counts.iterations,
    run((key) => database.put(key, value, false), hpckvKeys), run((key) => raw.put(key, value), rawKeys), timing);
  return { hpckv, raw: rawTiming };
}

/** Gets of stored keys (getSync: a read is answered in the turn it arrives, in flight or not). */
async function timeGets(scenario: Scenario, counts: LoopCounts, timing: TimingOptions, { database, raw }: ScenarioStores): Promise<StoreTimings> {
  const keys = freshKeys(1, counts.iterations)[0]!;
  const vals = values(BULK_RECORDS, scenario.valueBytes);
  for (let at = 0; at < keys.length; at += BULK_RECORDS) {
    const slice = keys.slice(at, at + BULK_RECORDS);
    await database.write(slice, slice.map((_, i) => vals[i]!), false);
    await raw.batch(slice.map((key, i) => ({ type: 'put' as const, key, value: vals[i]! })));
  }
  // Reads in a scrambled order, as the end-to-end gets make them.
  const order = keys.map((_, i) => keys[(i * 7919) % keys.length]!);
  const read = (get: (key: Buffer) => Buffer | null | undefined) => (): void => {
    for (const key of order) consume(get(key)?.length ?? -1);
  };
  const [hpckv, rawTiming] = await timeStagePair(counts.iterations, read((key) => database.get(key)), read((key) => raw.getSync(key)), timing);
  return { hpckv, raw: rawTiming };
}

/**
 * A putMany of new keys, as the server stores it: one that came as parts is staged into a batch
 * part by part and committed with the last (server/staged-puts.ts: the values go into the batch,
 * the keys are copied for the commit's locks and stats); one message goes through Database.write.
 * Raw: one chained batch.
 */
async function timeBulk(scenario: Scenario, counts: LoopCounts, timing: TimingOptions, { database, raw }: ScenarioStores): Promise<StoreTimings> {
  const vals = values(scenario.records, scenario.valueBytes);
  const calls = counts.bulkIterations;
  const keysOf = (): Buffer[][][] => freshKeys(roundsOf(timing) * calls, scenario.records)
    .reduce<Buffer[][][]>((rounds, keys, i) => { (rounds[Math.floor(i / calls)] ??= []).push(keys); return rounds; }, []);
  const partEntries = partSize(scenario);
  const staged = async (keys: Buffer[]): Promise<void> => {
    const batch = database.stagingBatch();
    const copies: Buffer[] = [];
    const sizes: number[] = [];
    let bytes = 0;
    for (let from = 0; from < keys.length; from += partEntries) {
      for (let i = from; i < Math.min(keys.length, from + partEntries); i++) {
        batch.put(keys[i]!, vals[i]!);
        copies.push(Buffer.from(keys[i]!));
        sizes.push(vals[i]!.length);
        bytes += keys[i]!.length + vals[i]!.length;
      }
    }
    await database.commitStaged(copies, sizes, batch, bytes, false);
  };
  const written = (keys: Buffer[]): Promise<unknown> => database.write(keys, vals, false);
  const rawBatch = async (keys: Buffer[]): Promise<void> => {
    const batch = raw.batch();
    for (let i = 0; i < keys.length; i++) batch.put(keys[i]!, vals[i]!);
    await batch.write();
  };
  const run = (store: (keys: Buffer[]) => Promise<unknown>, rounds: Buffer[][][]) => async (round: number): Promise<void> => {
    for (const keys of rounds[round]!) await store(keys);
  };
  const inParts = partEntries < scenario.records;
  const [hpckv, rawTiming] = await timeStagePair(calls, run(inParts ? staged : written, keysOf()), run(rawBatch, keysOf()), timing);
  if (!inParts) return { hpckv, raw: rawTiming };
  const oneMessageWrite = await timeStage(calls, run(written, keysOf()), timing);
  return { hpckv, raw: rawTiming, oneMessageWrite };
}

/** Entries per part of a putMany (client/put-many-parts.ts cuts at putManyPartBytesMax of keys and values). */
function partSize(scenario: Scenario): number {
  const partBytesMax = resolveLimits().putManyPartBytesMax;
  const entryBytes = benchKey(0).length + scenario.valueBytes;
  return partBytesMax === 0 ? scenario.records : Math.max(1, Math.floor(partBytesMax / entryBytes));
}

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { resolveLimits } from '../../core/limits.js';
import { Database } from '../../server/database.js';
import { benchKey } from '../bench-records.js';
import type { LoopCounts } from './client-stages.js';
import { BULK_RECORDS, freshKeys, values, type Scenario } from './request-shapes.js';
import { consume, roundsOf, timeStage, type StageTiming, type TimingOptions } from './stage-timers.js';
import type { ReadStored } from './server-stages.js';

export interface StoreTimings {
  /** hpckv's store layer (server/database.ts: its locks, stats, filter, group commit, LevelDB). */
  hpckv: StageTiming;
  /** Raw classic-level doing the same writes or reads. */
  raw: StageTiming;
  /** For a bulk put sent in parts: Database.write of the same records (the one-message path), for comparison. */
  oneMessageWrite?: StageTiming;
}

type RawStore = ClassicLevel<Buffer, Buffer>;

/**
 * Runs `use` on a store of its own in a fresh directory, then closes it (which waits for its
 * background compaction) and deletes it. Each measurement has a store to itself: CPU time counts
 * every thread of this process, so a second store compacting meanwhile would be billed to it.
 */
async function withStore<S extends { close(): Promise<void> }, T>(open: (dir: string) => Promise<S>, use: (store: S) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-stage-store-'));
  try {
    const store = await open(dir);
    try {
      return await use(store);
    } finally {
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const openDatabase = (dir: string): Promise<Database> => Database.open(join(dir, 'hpckv'), 'default', resolveLimits().writeGroupBytesMax);

async function openRaw(dir: string): Promise<RawStore> {
  const raw = new ClassicLevel<Buffer, Buffer>(join(dir, 'raw'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await raw.open();
  return raw;
}

/** An empty raw store whose getSync the stats stage uses for the old-value reads its key filter cannot rule out. */
export async function openReadStore(): Promise<{ readStored: ReadStored; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-stage-read-'));
  const raw = await openRaw(dir);
  return { readStored: (key) => raw.getSync(key), close: async () => { await raw.close(); await rm(dir, { recursive: true, force: true }); } };
}

export async function timeStore(scenario: Scenario, counts: LoopCounts, timing: TimingOptions): Promise<StoreTimings> {
  if (scenario.kind === 'get') return timeGets(scenario, counts, timing);
  if (scenario.kind === 'put') return timePuts(scenario, counts, timing);
  return timeBulk(scenario, counts, timing);
}

/**
 * Puts of new keys: one at a time, each awaited; or 64 issued in one turn, then awaited (what a
 * server does with 64 requests that arrive together). Per-op cost either way.
 */
async function timePuts(scenario: Scenario, counts: LoopCounts, timing: TimingOptions): Promise<StoreTimings> {
  const value = values(1, scenario.valueBytes)[0]!;
  const window = scenario.inFlight;
  const run = (put: (key: Buffer) => Promise<unknown>) => {
    const keys = freshKeys(roundsOf(timing), counts.iterations);
    return async (round: number): Promise<void> => {
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
  };
  return {
    hpckv: await withStore(openDatabase, (database) => timeStage(counts.iterations, run((key) => database.put(key, value, false)), timing)),
    raw: await withStore(openRaw, (raw) => timeStage(counts.iterations, run((key) => raw.put(key, value)), timing)),
  };
}

/** Gets of stored keys (getSync: a read is answered in the turn it arrives, in flight or not). */
async function timeGets(scenario: Scenario, counts: LoopCounts, timing: TimingOptions): Promise<StoreTimings> {
  const keys = freshKeys(1, counts.iterations)[0]!;
  const vals = values(BULK_RECORDS, scenario.valueBytes);
  // Reads in a scrambled order, as the end-to-end gets make them.
  const order = keys.map((_, i) => keys[(i * 7919) % keys.length]!);
  const read = (get: (key: Buffer) => Buffer | null | undefined) => (): void => {
    for (const key of order) consume(get(key)?.length ?? -1);
  };
  return {
    hpckv: await withStore(openDatabase, async (database) => {
      for (let at = 0; at < keys.length; at += BULK_RECORDS) {
        const slice = keys.slice(at, at + BULK_RECORDS);
        await database.write(slice, slice.map((_, i) => vals[i]!), false);
      }
      return timeStage(counts.iterations, read((key) => database.get(key)), timing);
    }),
    raw: await withStore(openRaw, async (raw) => {
      for (let at = 0; at < keys.length; at += BULK_RECORDS) {
        await raw.batch(keys.slice(at, at + BULK_RECORDS).map((key, i) => ({ type: 'put' as const, key, value: vals[i]! })));
      }
      return timeStage(counts.iterations, read((key) => raw.getSync(key)), timing);
    }),
  };
}

/**
 * A putMany of new keys, as the server stores it: one that came as parts is staged into a batch
 * part by part and committed with the last (server/staged-puts.ts: the values go into the batch,
 * the keys are copied for the commit's locks and stats); one message goes through Database.write.
 * Raw: one chained batch.
 */
async function timeBulk(scenario: Scenario, counts: LoopCounts, timing: TimingOptions): Promise<StoreTimings> {
  const vals = values(scenario.records, scenario.valueBytes);
  const calls = counts.bulkIterations;
  const partEntries = partSize(scenario);
  const staged = (database: Database) => async (keys: Buffer[]): Promise<void> => {
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
  const written = (database: Database) => (keys: Buffer[]): Promise<unknown> => database.write(keys, vals, false);
  const rawBatch = (raw: RawStore) => async (keys: Buffer[]): Promise<void> => {
    const batch = raw.batch();
    for (let i = 0; i < keys.length; i++) batch.put(keys[i]!, vals[i]!);
    await batch.write();
  };
  /** `calls` putMany calls per repetition, each of keys never written before. */
  const run = (store: (keys: Buffer[]) => Promise<unknown>): Promise<StageTiming> => {
    const keys = freshKeys(roundsOf(timing) * calls, scenario.records);
    return timeStage(calls, async (round) => {
      for (let c = 0; c < calls; c++) await store(keys[round * calls + c]!);
    }, timing);
  };
  const inParts = partEntries < scenario.records;
  const hpckv = await withStore(openDatabase, (database) => run(inParts ? staged(database) : written(database)));
  const raw = await withStore(openRaw, (store) => run(rawBatch(store)));
  if (!inParts) return { hpckv, raw };
  return { hpckv, raw, oneMessageWrite: await withStore(openDatabase, (database) => run(written(database))) };
}

/** Entries per part of a putMany (client/put-many-parts.ts cuts at putManyPartBytesMax of keys and values). */
function partSize(scenario: Scenario): number {
  const partBytesMax = resolveLimits().putManyPartBytesMax;
  const entryBytes = benchKey(0).length + scenario.valueBytes;
  return partBytesMax === 0 ? scenario.records : Math.max(1, Math.floor(partBytesMax / entryBytes));
}

// How a database opens: from the summary of its last clean close, or by counting its records in
// the background while it serves (the count held by a gate here, so writes provably run during it).
import test, { type ExecutionContext } from 'ava';
import { DEFAULT_LIMITS } from '../../../core/limits.js';
import { access, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import { Database } from '../../../server/database.js';
import { scanDirectory } from '../../support/scan-directory.js';
import { statsOf, type StatsModel } from '../../support/stats-model.js';

const GROUP_BYTES = DEFAULT_LIMITS.writeGroupBytesMax;

const SUMMARY_FILE = 'hpckv-summary';
const b = (text: string): Buffer => Buffer.from(text);

async function tempStore(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-startup-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'store');
}

/** Writes `records` keys (values of 0..49 bytes), closes cleanly, and returns the model. */
async function load(location: string, records: number): Promise<StatsModel> {
  const db = await Database.open(location, 'store', GROUP_BYTES);
  const model: StatsModel = new Map();
  for (let start = 0; start < records; start += 1000) {
    const keys: Buffer[] = [];
    const values: Buffer[] = [];
    for (let i = start; i < Math.min(records, start + 1000); i++) {
      keys.push(b(`key-${i}`));
      values.push(Buffer.alloc(i % 50, i & 0xff));
      model.set(`key-${i}`, i % 50);
    }
    await db.write(keys, values, false);
  }
  await db.close();
  return model;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

/** A gate the background count waits at, and its release. */
function gate(): { promise: Promise<void>; release: () => void } {
  let release: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => { release = resolve; });
  return { promise, release };
}

test('a store created by the open has nothing to count: exact stats at once', async (t) => {
  const location = await tempStore(t);
  const db = await Database.open(location, 'store', GROUP_BYTES);
  t.is(db.startup.summary, 'new');
  t.deepEqual(db.stats(), { records: 0, keyBytes: 0, valueBytes: 0 });
  await db.close();
});

/** How many of `keys` putIfAbsent refuses: all of them when the filter knows every stored key (else it would overwrite one). */
async function refusedPutIfAbsent(db: Database, keys: Iterable<string>): Promise<number> {
  let refused = 0;
  for (const key of keys) {
    await db.putIfAbsent(b(key), b('overwritten'), false).catch((error: unknown) => {
      if (error instanceof HpckvError && error.code === ErrorCodes.KEY_EXISTS) refused++;
    });
  }
  return refused;
}

test('a clean close saves a summary; the next open takes its stats at once, removes it, and loads a filter that knows every stored key', async (t) => {
  const location = await tempStore(t);
  const model = await load(location, 3000);
  t.true(await exists(join(location, SUMMARY_FILE)));
  const db = await Database.open(location, 'store', GROUP_BYTES);
  t.is(db.startup.summary, 'loaded');
  t.true(db.startup.statsReadyMs >= 0);
  t.false(await exists(join(location, SUMMARY_FILE)), 'removed before the first write');
  // A plain value, not a promise: nothing is being counted.
  t.deepEqual(db.stats(), statsOf(model));
  // Written at once, while the filter may still be loading (its adds deferred).
  await db.put(b('during-load'), Buffer.alloc(4), false);
  model.set('during-load', 4);
  t.true(await db.whenKeysKnown());
  t.true(db.startup.keysReadyMs >= 0);
  t.is(await refusedPutIfAbsent(db, model.keys()), model.size);
  await db.put(b('key-7'), Buffer.alloc(123), false);
  model.set('key-7', 123);
  await db.del(b('key-8'), false);
  model.delete('key-8');
  await db.put(b('fresh'), Buffer.alloc(5), false);
  model.set('fresh', 5);
  t.deepEqual(db.stats(), statsOf(model));
  await db.close();
  const again = await Database.open(location, 'store', GROUP_BYTES);
  t.is(again.startup.summary, 'loaded');
  t.deepEqual(again.stats(), statsOf(model));
  await again.close();
  // Last: a raw open of the store makes its summary stale (see the stale test).
  t.deepEqual(await scanDirectory(location), statsOf(model));
});

test('opened without a summary it serves at once and counts in the background: writes of every kind during the count keep stats exact', async (t) => {
  const location = await tempStore(t);
  const model = await load(location, 5000);
  await unlink(join(location, SUMMARY_FILE)); // as after a crash
  const held = gate();
  const db = await Database.open(location, 'store', GROUP_BYTES, { countGate: held.promise });
  t.deepEqual(db.startup, { summary: 'missing', statsReadyMs: -1, keysReadyMs: -1 });
  const pending = db.stats();
  t.true(pending instanceof Promise, 'stats wait for the count');
  let answered = false;
  void Promise.resolve(pending).then(() => { answered = true; });

  await db.put(b('key-1'), Buffer.alloc(77), false); // stored: the filter knows nothing yet
  model.set('key-1', 77);
  await db.put(b('new-1'), Buffer.alloc(3), true);
  model.set('new-1', 3);
  await db.del(b('key-2'), false);
  model.delete('key-2');
  await db.del(b('never-stored'), false);
  await t.throwsAsync(db.putIfAbsent(b('key-3'), b('x'), false), { instanceOf: HpckvError, message: /already stored/ });
  await db.putIfAbsent(b('new-2'), Buffer.alloc(9), false);
  model.set('new-2', 9);
  t.is(await db.append(b('key-4'), Buffer.alloc(10), false, 1 << 20), 4 + 10);
  model.set('key-4', 14);
  t.is(await db.append(b('new-3'), Buffer.alloc(6), false, 1 << 20), 6);
  model.set('new-3', 6);
  await db.write([b('key-5'), b('key-5'), b('key-6'), b('new-4'), b('new-4')],
    [Buffer.alloc(1), Buffer.alloc(2), null, Buffer.alloc(4), null], false);
  model.set('key-5', 2);
  model.delete('key-6');
  t.is(await db.deleteRange({ gte: b('key-10'), lt: b('key-11') }, 100, false), 111);
  for (const key of [...model.keys()]) if (key >= 'key-10' && key < 'key-11') model.delete(key);
  t.false(answered, 'stat is still waiting for the count');

  held.release();
  t.deepEqual(await pending, statsOf(model));
  t.true(db.startup.statsReadyMs >= 0);
  t.is(db.startup.keysReadyMs, db.startup.statsReadyMs, 'one count gives both');
  t.deepEqual(db.stats(), statsOf(model), 'plain values once counted');
  t.true(await db.whenKeysKnown());
  t.is(await refusedPutIfAbsent(db, model.keys()), model.size);
  await db.close();
  const again = await Database.open(location, 'store', GROUP_BYTES);
  t.is(again.startup.summary, 'loaded', 'a close after the count saves a summary');
  t.deepEqual(again.stats(), statsOf(model));
  await again.close();
  t.deepEqual(await scanDirectory(location), statsOf(model));
});

test('a corrupt, foreign-version or stale summary is ignored: the records are counted and stats stay exact', async (t) => {
  const location = await tempStore(t);
  const model = await load(location, 2000);
  const summaryPath = join(location, SUMMARY_FILE);
  const reopen = async (): Promise<string> => {
    const db = await Database.open(location, 'store', GROUP_BYTES);
    const { summary } = db.startup;
    t.deepEqual(await db.stats(), statsOf(model), summary);
    await db.close();
    return summary;
  };

  const corrupt = await readFile(summaryPath);
  corrupt[30]! ^= 1; // in the header: its checksum fails
  await writeFile(summaryPath, corrupt);
  t.is(await reopen(), 'corrupt');

  const otherVersion = await readFile(summaryPath);
  otherVersion.writeUInt32LE(otherVersion.readUInt32LE(8) + 1, 8);
  await writeFile(summaryPath, otherVersion);
  t.is(await reopen(), 'version');

  // A summary of an earlier state: saved aside, the store written and closed, then put back.
  const earlier = await readFile(summaryPath);
  const db = await Database.open(location, 'store', GROUP_BYTES);
  await db.put(b('later'), Buffer.alloc(11), false);
  model.set('later', 11);
  await db.close();
  await writeFile(summaryPath, earlier);
  t.is(await reopen(), 'stale');
  t.is(await reopen(), 'loaded');

  // Any open of the store, even one that writes nothing, makes its summary stale.
  t.deepEqual(await scanDirectory(location), statsOf(model));
  t.is(await reopen(), 'stale');
});

test('close during a count stops it cleanly: waiting stats fail with SHUTTING_DOWN, no summary is written, the next open counts again', async (t) => {
  const location = await tempStore(t);
  const model = await load(location, 3000);
  await unlink(join(location, SUMMARY_FILE));
  const held = gate();
  const db = await Database.open(location, 'store', GROUP_BYTES, { countGate: held.promise });
  const pending = Promise.resolve(db.stats());
  await db.put(b('during'), Buffer.alloc(1), false);
  model.set('during', 1);
  await db.close();
  const error = await t.throwsAsync(pending, { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.SHUTTING_DOWN);
  t.false(await exists(join(location, SUMMARY_FILE)), 'stats that were never exact are not saved');
  const again = await Database.open(location, 'store', GROUP_BYTES);
  t.is(again.startup.summary, 'missing');
  t.deepEqual(await again.stats(), statsOf(model));
  await again.close();
});

test('a summary whose filter part is damaged keeps its checked stats; the keys are counted in the background from a snapshot of the open', async (t) => {
  const location = await tempStore(t);
  const model = await load(location, 4000);
  const summaryPath = join(location, SUMMARY_FILE);
  const damaged = await readFile(summaryPath);
  damaged[damaged.length - 500]! ^= 0x40; // in the layers: the header and its checksum are intact
  await writeFile(summaryPath, damaged);
  const db = await Database.open(location, 'store', GROUP_BYTES);
  t.is(db.startup.summary, 'loaded');
  t.deepEqual(db.stats(), statsOf(model), 'the stats of the checked header, at once');
  await db.put(b('key-9'), Buffer.alloc(1), false);
  model.set('key-9', 1);
  await db.put(b('new'), Buffer.alloc(2), false);
  model.set('new', 2);
  await db.del(b('key-10'), false);
  model.delete('key-10');
  t.true(await db.whenKeysKnown());
  t.is(await refusedPutIfAbsent(db, model.keys()), model.size);
  t.deepEqual(db.stats(), statsOf(model));
  await db.close();
  const again = await Database.open(location, 'store', GROUP_BYTES);
  t.is(again.startup.summary, 'loaded');
  t.deepEqual(again.stats(), statsOf(model));
  t.true(await again.whenKeysKnown());
  await again.close();
  t.deepEqual(await scanDirectory(location), statsOf(model));
});

test('a close right after the open waits for the filter to load and saves the summary again', async (t) => {
  const location = await tempStore(t);
  const model = await load(location, 2000);
  const db = await Database.open(location, 'store', GROUP_BYTES);
  await db.close();
  t.true(await exists(join(location, SUMMARY_FILE)));
  const again = await Database.open(location, 'store', GROUP_BYTES);
  t.is(again.startup.summary, 'loaded');
  t.deepEqual(again.stats(), statsOf(model));
  await again.close();
});

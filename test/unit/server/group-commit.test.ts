import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import { Database } from '../../../server/database.js';
import { GroupCommit, type BatchingStore, type CommitBatch, type StagedOps } from '../../../server/group-commit.js';

/** A store that records every batch (and single put or delete) it was asked to write; `failNext` makes the next write fail. */
class RecordingStore implements BatchingStore {
  readonly written: Array<{ ops: string[]; sync: boolean }> = [];
  readonly singles: Array<{ op: string; sync: boolean }> = [];
  failNext: Error | undefined;

  async put(key: Buffer, value: Buffer, options: { sync: boolean }): Promise<void> {
    this.singles.push({ op: `put ${key.toString()}=${value.toString()}`, sync: options.sync });
  }

  async del(key: Buffer, options: { sync: boolean }): Promise<void> {
    this.singles.push({ op: `del ${key.toString()}`, sync: options.sync });
  }

  batch(): CommitBatch {
    const ops: string[] = [];
    return {
      put: (key, value) => ops.push(`put ${key.toString()}=${value.toString()}`),
      del: (key) => ops.push(`del ${key.toString()}`),
      write: async (options) => {
        const failure = this.failNext;
        this.failNext = undefined;
        if (failure !== undefined) throw failure;
        this.written.push({ ops, sync: options.sync });
      },
      close: async () => undefined,
    };
  }
}

const b = (text: string): Buffer => Buffer.from(text);

/** submit() as a promise, for the tests' convenience. */
function submit(groups: GroupCommit, bytes: number, sync: boolean, ops: StagedOps): Promise<void> {
  return new Promise((resolve, reject) => groups.submit(bytes, sync, ops, (error) => (error === undefined ? resolve() : reject(error))));
}

test('writes submitted in one turn are written as one batch, in submission order', async (t) => {
  const store = new RecordingStore();
  const groups = new GroupCommit(store, 1 << 20);
  await Promise.all(['a', 'b', 'c'].map((k) => submit(groups, 2, false, (batch) => batch.put(b(k), b('1')))));
  t.deepEqual(store.written, [{ ops: ['put a=1', 'put b=1', 'put c=1'], sync: false }]);
  t.is(groups.groupsWritten, 1);
  t.is(groups.membersWritten, 3);
});

test('writes that arrive while a group is being written form the next group', async (t) => {
  const store = new RecordingStore();
  const groups = new GroupCommit(store, 1 << 20);
  const first = submit(groups, 2, false, (batch) => batch.put(b('a'), b('1')));
  await Promise.resolve(); // the first group is now being written
  const later = ['b', 'c'].map((k) => submit(groups, 2, false, (batch) => batch.put(b(k), b('2'))));
  await Promise.all([first, ...later]);
  t.deepEqual(store.written.map((w) => w.ops), [['put a=1'], ['put b=2', 'put c=2']]);
});

test('one sync member makes its whole group synced; a group without one is not', async (t) => {
  const store = new RecordingStore();
  const groups = new GroupCommit(store, 1 << 20);
  await Promise.all([
    submit(groups, 2, false, (batch) => batch.put(b('a'), b('1'))),
    submit(groups, 2, true, (batch) => batch.del(b('b'))),
  ]);
  await submit(groups, 2, false, (batch) => batch.put(b('c'), b('1')));
  t.deepEqual(store.written, [{ ops: ['put a=1', 'del b'], sync: true }, { ops: ['put c=1'], sync: false }]);
});

test('a group closes at writeGroupBytesMax; a larger request is a group of its own, never split', async (t) => {
  const store = new RecordingStore();
  const groups = new GroupCommit(store, 10);
  await Promise.all([
    submit(groups, 4, false, (batch) => batch.put(b('a'), b('1'))),
    submit(groups, 4, false, (batch) => batch.put(b('b'), b('1'))),
    submit(groups, 4, false, (batch) => batch.put(b('c'), b('1'))), // 12 > 10: starts the next group
    submit(groups, 25, false, (batch) => { batch.put(b('d'), b('1')); batch.put(b('e'), b('1')); }),
    submit(groups, 1, false, (batch) => batch.put(b('f'), b('1'))),
  ]);
  t.deepEqual(store.written.map((w) => w.ops), [['put a=1', 'put b=1'], ['put c=1'], ['put d=1', 'put e=1'], ['put f=1']]);
});

test('a failed group write fails every member with that error; the next group is written', async (t) => {
  const store = new RecordingStore();
  const groups = new GroupCommit(store, 1 << 20);
  store.failNext = new Error('disk full');
  const members = ['a', 'b'].map((k) => submit(groups, 2, false, (batch) => batch.put(b(k), b('1'))));
  for (const member of members) await t.throwsAsync(member, { message: 'disk full' });
  await submit(groups, 2, false, (batch) => batch.put(b('c'), b('1')));
  t.deepEqual(store.written.map((w) => w.ops), [['put c=1']]);
});

test('a single put or delete alone in its group skips the batch; in company it joins the batch', async (t) => {
  const store = new RecordingStore();
  const groups = new GroupCommit(store, 1 << 20);
  const single = (key: string, value: string | null, sync = false): Promise<void> =>
    submit(groups, 2, sync, { key: b(key), value: value === null ? null : b(value) });
  await single('a', '1', true);
  await single('b', null);
  await Promise.all([single('c', '1'), single('d', null)]);
  t.deepEqual(store.singles, [{ op: 'put a=1', sync: true }, { op: 'del b', sync: false }]);
  t.deepEqual(store.written, [{ ops: ['put c=1', 'del d'], sync: false }]);
});

test('a request whose staging throws fails its whole group and nothing of the group is written', async (t) => {
  const store = new RecordingStore();
  const groups = new GroupCommit(store, 1 << 20);
  const good = submit(groups, 2, false, (batch) => batch.put(b('a'), b('1')));
  const bad = submit(groups, 2, false, () => { throw new TypeError('not a buffer'); });
  await t.throwsAsync(good, { message: 'not a buffer' });
  await t.throwsAsync(bad, { message: 'not a buffer' });
  t.deepEqual(store.written, []);
});

async function withDatabase(t: { teardown(fn: () => Promise<void>): void }, groupBytesMax = 4 << 20): Promise<Database> {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-group-'));
  const db = await Database.open(join(dir, 'db'), 'default', groupBytesMax);
  t.teardown(async () => { await db.close(); await rm(dir, { recursive: true, force: true }); });
  return db;
}

test('a database commits one turn of puts as one LevelDB batch and acknowledges each', async (t) => {
  const db = await withDatabase(t);
  const before = db.writeGroups;
  await Promise.all(Array.from({ length: 64 }, (_, i) => db.put(b(`k${i}`), b(`v${i}`), false)));
  t.deepEqual(db.writeGroups, { groups: before.groups + 1, writes: before.writes + 64 });
  t.deepEqual(db.getMany(Array.from({ length: 64 }, (_, i) => b(`k${i}`))).map(String), Array.from({ length: 64 }, (_, i) => `v${i}`));
  t.deepEqual(await db.stats(), { records: 64, keyBytes: 64 * 2 + 54, valueBytes: 64 * 2 + 54 });
});

test('writes to one key in one turn keep arrival order: each waits for the group of the one before', async (t) => {
  const db = await withDatabase(t);
  const lengths = await Promise.all([
    db.put(b('k'), b('1'), false), db.append(b('k'), b('2'), false, 100), db.append(b('k'), b('3'), false, 100), db.put(b('other'), b('x'), false),
  ]);
  t.deepEqual(lengths, [null, 2, 3, null]);
  t.is(db.get(b('k'))?.toString(), '123');
  t.is(db.writeGroups.groups, 3); // k=1 with other, then each append after the previous committed
  t.deepEqual(await db.stats(), { records: 2, keyBytes: 6, valueBytes: 4 });
});

test('a write-once put that finds its key fails alone; the others of its group land', async (t) => {
  const db = await withDatabase(t);
  await db.put(b('taken'), b('first'), false);
  const results = await Promise.allSettled([
    db.put(b('a'), b('1'), false), db.putIfAbsent(b('taken'), b('second'), false), db.putIfAbsent(b('fresh'), b('1'), true),
  ]);
  t.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  const failure = (results[1] as PromiseRejectedResult).reason as HpckvError;
  t.is(failure.code, ErrorCodes.KEY_EXISTS);
  t.is(db.get(b('taken'))?.toString(), 'first');
  t.deepEqual(await db.stats(), { records: 3, keyBytes: 5 + 1 + 5, valueBytes: 5 + 1 + 1 });
});

test('groups reach LevelDB: reopening the store reads every acknowledged write back', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-group-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const db = await Database.open(join(dir, 'db'), 'default', 64);
  // 64-byte groups: 200 writes of 11-13 bytes make many groups, some writes waiting behind others.
  await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 10 === 9
    ? db.write([b(`k${i - 1}`), b(`k${i}`)], [null, b(`v${i}`)], false)
    : db.put(b(`k${i}`), b(`v${i}`), i % 7 === 0))));
  t.true(db.writeGroups.groups > 20);
  await db.close();
  const raw = new ClassicLevel<Buffer, Buffer>(join(dir, 'db'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await raw.open();
  const stored = new Map<string, string>();
  for await (const [key, value] of raw.iterator()) stored.set(key.toString(), value.toString());
  await raw.close();
  const expected = new Map<string, string>();
  for (let i = 0; i < 200; i++) if (i % 10 !== 8) expected.set(`k${i}`, `v${i}`);
  t.deepEqual([...stored].sort(), [...expected].sort());
});

import test from 'ava';
import { Client } from '../../../client/client.js';
import { SecondaryIndex, type BuildProgress } from '../../../client/secondary-index.js';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import type { KeyValue } from '../../../core/keys/key-type.js';
import { seededUint32 } from '../../../examples/seeded-random.js';
import { launchIndexGroups, stopIndexGroups, type IndexGroup } from '../../support/index-groups.js';

/**
 * One record written through several secondary indexes at once (Client.putIndexed / delIndexed,
 * SecondaryIndex.write) and backfills (SecondaryIndex.build), over real server processes: a hash
 * group (string primary keys) and a range group (int32 primary keys cut at 100 and 200, tiny scan
 * pages). Each pair of indexes is a ParSplice-like one: states by energy (global, float64) and by
 * worker (local, int32).
 */

let setups: IndexGroup[] = [];
const DATABASES = ['default', 'idx', 'idx2', 's1', 's2', 's3', 's4', 's5', 'other'];

test.before(async () => {
  setups = await launchIndexGroups('multi-index', DATABASES, 'state-');
});

test.after.always(() => stopIndexGroups(setups));

/** A state's value names its energy and worker, so a match can be checked against the value itself. */
interface State { e: number; w: number; n: number }
const encode = (s: State): string => JSON.stringify(s);
const decode = (value: Buffer): State => JSON.parse(value.toString()) as State;

async function indexes(client: Client, db: string, suffix: string): Promise<{ byEnergy: SecondaryIndex; byWorker: SecondaryIndex; names: [string, string] }> {
  const names: [string, string] = [`by-energy-${suffix}`, `by-worker-${suffix}`];
  const byEnergy = await client.createIndex(names[0], { kind: 'global', primaryDb: db, indexDb: 'idx', keyType: 'float64' });
  const byWorker = await client.createIndex(names[1], { kind: 'local', primaryDb: db, indexDb: 'idx2', keyType: 'int32' });
  return { byEnergy, byWorker, names };
}

const sorted = (client: Client, found: Array<[KeyValue, string]>): Array<[KeyValue, string]> =>
  [...found].sort((a, b) => Buffer.compare(client.encodeKey(a[0]), client.encodeKey(b[0])));
const texts = (found: Array<[KeyValue, Buffer]>): Array<[KeyValue, string]> => found.map(([k, v]) => [k, v.toString()]);

/** Every (energy, worker) lookup of `expected` (key -> state) and of `absent` finds exactly what expected says. */
async function checkBoth(t: { deepEqual: (a: unknown, b: unknown, m?: string) => void }, client: Client, byEnergy: SecondaryIndex, byWorker: SecondaryIndex,
  expected: Map<KeyValue, State>, energies: number[], workers: number[]): Promise<void> {
  for (const e of energies) {
    const want = sorted(client, [...expected].filter(([, s]) => s.e === e).map(([k, s]): [KeyValue, string] => [k, encode(s)]));
    t.deepEqual(texts(await byEnergy.lookup(e)), want, `energy ${e}`);
  }
  for (const w of workers) {
    const want = sorted(client, [...expected].filter(([, s]) => s.w === w).map(([k, s]): [KeyValue, string] => [k, encode(s)]));
    t.deepEqual(texts(await byWorker.lookup(w)), want, `worker ${w}`);
  }
}

for (const setupName of ['hash', 'range']) {
  test(`${setupName} group: a record written through a global and a local index is found, updated and deleted in both`, async (t) => {
    const { client, key } = setups.find((s) => s.name === setupName)!;
    const { byEnergy, byWorker, names } = await indexes(client, 's1', 'basic');
    const [energy, worker] = names;
    const a: State = { e: -1.5, w: 3, n: 0 };
    await client.putIndexed(key(7), encode(a), { [energy]: [a.e], [worker]: [a.w] });
    t.deepEqual(texts(await byEnergy.lookup(-1.5)), [[key(7), encode(a)]]);
    t.deepEqual(texts(await byWorker.lookup(3)), [[key(7), encode(a)]]);
    t.is((await client.get(key(7), { db: 's1' }))?.toString(), encode(a));

    // Update through both: new keys in both, the old ones gone from both, the value is the new one.
    const b: State = { e: 2.25, w: 4, n: 1 };
    await client.putIndexed(key(7), encode(b), { [energy]: [b.e], [worker]: [b.w] });
    t.deepEqual(await byEnergy.lookup(-1.5), []);
    t.deepEqual(await byWorker.lookup(3), []);
    t.deepEqual(texts(await byEnergy.lookup(2.25)), [[key(7), encode(b)]]);
    t.deepEqual(texts(await byWorker.lookup(4)), [[key(7), encode(b)]]);
    // Several keys per index, and the static form with the index objects themselves.
    const c: State = { e: 5, w: 4, n: 2 };
    await SecondaryIndex.write(key(7), encode(c), [{ index: byEnergy, secondaryKeys: [5, 6] }, { index: byWorker, secondaryKeys: [4] }]);
    t.deepEqual(texts(await byEnergy.lookupRange({ gte: 2, lte: 6 })), [[key(7), encode(c)], [key(7), encode(c)]]);
    t.deepEqual(texts(await byWorker.lookup(4)), [[key(7), encode(c)]]);

    // A write through one index alone leaves the record stale (never misfound) in the other; a write through both repairs it.
    await byEnergy.put(key(7), encode({ ...c, n: 3 }), [5]);
    t.deepEqual(await byWorker.lookup(4), []);
    t.is((await byEnergy.lookup(5)).length, 1);
    await client.putIndexed(key(7), encode(c), { [energy]: [5], [worker]: [4] });
    t.deepEqual(texts(await byWorker.lookup(4)), [[key(7), encode(c)]]);
    t.deepEqual(await byEnergy.lookup(6), []);

    // A second record with the same worker; then delete the first through both.
    const d: State = { e: 5, w: 4, n: 4 };
    await client.putIndexed(key(150), encode(d), { [energy]: [d.e], [worker]: [d.w] });
    t.deepEqual(texts(await byWorker.lookup(4)), sorted(client, [[key(7), encode(c)], [key(150), encode(d)]]));
    await client.delIndexed(key(7), [energy, worker]);
    t.is(await client.get(key(7), { db: 's1' }), undefined);
    t.deepEqual(texts(await byEnergy.lookup(5)), [[key(150), encode(d)]]);
    t.deepEqual(texts(await byWorker.lookup(4)), [[key(150), encode(d)]]);
    t.deepEqual(texts(await byEnergy.lookupRange({})), [[key(150), encode(d)]]);

    // Another client resolves the names from the catalog.
    const other = await Client.open(setups.find((s) => s.name === setupName)!.group.groupFile);
    const e: State = { e: 9, w: 1, n: 5 };
    await other.putIndexed(key(150), encode(e), { [energy]: [e.e], [worker]: [e.w] });
    t.deepEqual(texts(await byEnergy.lookup(9)), [[key(150), encode(e)]]);
    t.deepEqual(texts(await byWorker.lookup(1)), [[key(150), encode(e)]]);
    t.deepEqual(await byWorker.lookup(4), []);
    await other.delIndexed(key(150), [worker, energy]);
    t.deepEqual(await byEnergy.lookupRange({}), []);
    t.deepEqual(await byWorker.lookupRange({}), []);
    await other.close();
  });

  test(`${setupName} group: model check, 300 records written concurrently through two indexes`, async (t) => {
    const { client, key, group } = setups.find((s) => s.name === setupName)!;
    const { byEnergy, byWorker, names } = await indexes(client, 's2', 'model');
    const [energy, worker] = names;
    // Every bit well mixed (the low bits of a plain LCG repeat with short periods).
    const nextUint32 = seededUint32(setupName === 'hash' ? 3 : 5);
    const random = (n: number): number => nextUint32() % n;
    const energies = [-2, -1, 0, 0.5, 1, 2];
    const workers = [0, 1, 2, 3];
    // Phase 1: writes of one record chained in program order, records in parallel; the model is exact.
    const model = new Map<KeyValue, State>();
    const chains = new Map<number, Promise<void>>();
    for (let n = 0; n < 1200; n++) {
      const id = random(300);
      let write: () => Promise<void>;
      if (random(8) === 0) {
        model.delete(key(id));
        write = () => client.delIndexed(key(id), [energy, worker]);
      } else {
        const state: State = { e: energies[random(energies.length)]!, w: workers[random(workers.length)]!, n };
        model.set(key(id), state);
        write = () => client.putIndexed(key(id), encode(state), { [energy]: [state.e], [worker]: [state.w] });
      }
      chains.set(id, (chains.get(id) ?? Promise.resolve()).then(write));
      if (n % 200 === 199) await Promise.all(chains.values());
    }
    await Promise.all(chains.values());
    await checkBoth(t, client, byEnergy, byWorker, model, energies, workers);

    // Phase 2: two clients race on the same records, unordered. Whichever write lands last, a
    // record is found in both indexes exactly under the keys of its stored value.
    const other = await Client.open(group.groupFile);
    const races: Array<Promise<void>> = [];
    for (let n = 0; n < 600; n++) {
      const id = random(300);
      const writer = n % 2 === 0 ? client : other;
      const state: State = { e: energies[random(energies.length)]!, w: workers[random(workers.length)]!, n: 10_000 + n };
      races.push(random(10) === 0 ? writer.delIndexed(key(id), [energy, worker])
        : writer.putIndexed(key(id), encode(state), { [energy]: [state.e], [worker]: [state.w] }));
    }
    await Promise.all(races);
    await other.close();
    const stored = new Map<KeyValue, State>();
    for await (const [k, v] of client.iterate({ db: 's2' })) stored.set(k, decode(v!));
    t.true(stored.size > 100);
    await checkBoth(t, client, byEnergy, byWorker, stored, energies, workers);
    t.is((await byEnergy.lookupRange({})).length, stored.size);
    t.is((await byWorker.lookupRange({})).length, stored.size);
  });

  test(`${setupName} group: bad multi-index writes are typed errors and write nothing`, async (t) => {
    const { client, key, group } = setups.find((s) => s.name === setupName)!;
    const { names } = await indexes(client, 's3', 'errors');
    const [energy, worker] = names;
    await client.createIndex('elsewhere-errors', { kind: 'local', primaryDb: 'other', indexDb: 'idx', keyType: 'int32' });
    const code = async (promise: Promise<unknown>): Promise<string | undefined> =>
      (await t.throwsAsync(promise, { instanceOf: HpckvError }))?.code;
    const k = key(1);
    t.is(await code(client.putIndexed(k, 'v', { [energy]: [1], 'no-such-index': [1] })), ErrorCodes.UNKNOWN_INDEX);
    t.is(await code(client.delIndexed(k, [energy, 'no-such-index'])), ErrorCodes.UNKNOWN_INDEX);
    t.is(await code(client.putIndexed(k, 'v', { [energy]: [1], 'elsewhere-errors': [1] })), ErrorCodes.BAD_REQUEST);
    t.is(await code(client.delIndexed(k, [worker, 'elsewhere-errors'])), ErrorCodes.BAD_REQUEST);
    t.is(await code(client.putIndexed(k, 'v', { [energy]: ['not a float'], [worker]: [1] })), ErrorCodes.BAD_KEY);
    t.is(await code(client.putIndexed(k, 'v', { [energy]: [1], [worker]: [1.5] })), ErrorCodes.BAD_KEY);
    t.is(await code(client.putIndexed(k, 'v', { [energy]: [Number.NaN], [worker]: [1] })), ErrorCodes.BAD_KEY);
    t.is(await code(client.putIndexed(k, 'v', { [energy]: [1], [worker]: [1] }, { db: 'other' })), ErrorCodes.BAD_REQUEST);
    t.is(await code(client.delIndexed(k, [energy, energy])), ErrorCodes.BAD_REQUEST);
    const byEnergy = await client.index(energy);
    t.is(await code(SecondaryIndex.write(k, 'v', [{ index: byEnergy, secondaryKeys: [1] }, { index: byEnergy, secondaryKeys: [2] }])), ErrorCodes.BAD_REQUEST);
    await t.throwsAsync(client.putIndexed(k, 'v', {}), { instanceOf: TypeError });
    await t.throwsAsync(client.putIndexed(k, 'v', { [energy]: 1 as unknown as number[] }), { instanceOf: TypeError });
    // Nothing above reached a store.
    t.is(await client.get(k, { db: 's3' }), undefined);
    t.deepEqual(await byEnergy.lookupRange({}), []);

    // indexesPerWriteMax: checked by the client, and by the server for other clients.
    const tight = await Client.open(group.groupFile, { limits: { indexesPerWriteMax: 1 } });
    t.is(await code(tight.putIndexed(k, 'v', { [energy]: [1], [worker]: [1] })), ErrorCodes.BATCH_TOO_LARGE);
    await tight.close();
    const { RpcClient } = await import('../../../core/rpc/rpc-client.js');
    const raw = await RpcClient.connect(group.group.servers[0]!.address, client.limits);
    const parts = Array.from({ length: client.limits.indexesPerWriteMax + 1 }, (_, i) => ({ indexDb: 'idx', index: Buffer.from(`ix${i}\u0000`), local: true, secondaryKeys: [] }));
    t.is(await code(raw.call('indexWrite', { db: 's3', key: Buffer.from('k'), value: Buffer.from('v'), writeId: Buffer.alloc(8), indexes: parts })), ErrorCodes.BATCH_TOO_LARGE);
    t.is(await code(raw.call('indexWrite', { db: 's3', key: Buffer.from('k'), value: null, writeId: Buffer.alloc(8), indexes: parts.slice(0, 1), ifStored: true })), ErrorCodes.BAD_REQUEST);
    t.is(await code(raw.call('indexWrite', { db: 's3', key: Buffer.from('k'), value: Buffer.from('v'), writeId: Buffer.alloc(8), indexes: parts.slice(0, 1), ifStored: 1 })), ErrorCodes.BAD_REQUEST);
    raw.close();
    t.is(await client.get(k, { db: 's3' }), undefined);
  });

  test(`${setupName} group: build indexes stored records page by page, keeps them live in other indexes, skips records changed meanwhile`, async (t) => {
    const { client, key } = setups.find((s) => s.name === setupName)!;
    const records = new Map<KeyValue, State>();
    for (let i = 0; i < 200; i++) records.set(key(i * 7 % 281), { e: i % 5, w: i % 3, n: i });
    await client.putMany([...records].map(([k, s]) => [k, encode(s)] as const), { db: 's4' });
    const { byEnergy, byWorker } = await indexes(client, 's4', 'build');
    t.deepEqual(await byEnergy.lookupRange({}), []);

    const pages: BuildProgress[] = [];
    const done = await byEnergy.build((_key, value) => [decode(value).e], { pageEntries: 16, onProgress: (p) => pages.push(p) });
    t.deepEqual(done, { scanned: 200, indexed: 200, skipped: 0 });
    t.is(pages.length, 13);
    t.deepEqual(pages.map((p) => p.scanned), [...Array.from({ length: 12 }, (_, i) => (i + 1) * 16), 200]);
    t.deepEqual(pages[12], done);
    // An asynchronous extractor; building the second index leaves the first live (values are not rewritten).
    t.deepEqual(await byWorker.build(async (_key, value) => [decode(value).w]), { scanned: 200, indexed: 200, skipped: 0 });
    await checkBoth(t, client, byEnergy, byWorker, records, [0, 1, 2, 3, 4], [0, 1, 2]);

    // Rebuild with other keys: the previous entries are replaced.
    t.deepEqual(await byEnergy.build((_key, value) => [decode(value).e + 100]), { scanned: 200, indexed: 200, skipped: 0 });
    t.deepEqual(await byEnergy.lookup(0), []);
    t.is((await byEnergy.lookupRange({ gte: 100 })).length, 200);
    t.is((await byWorker.lookupRange({})).length, 200);

    // A record written (behind the index) after it was scanned is skipped, and stays as written.
    const changed = key(7);
    const seen: KeyValue[] = [];
    const progress = await byWorker.build(async (k, value) => {
      seen.push(k);
      if (Buffer.from(client.encodeKey(k)).equals(client.encodeKey(changed))) await client.put(changed, encode({ e: 0, w: 9, n: -1 }), { db: 's4' });
      return [decode(value).w + 10];
    });
    t.is(seen.length, 200);
    t.deepEqual(progress, { scanned: 200, indexed: 199, skipped: 1 });
    t.is((await client.get(changed, { db: 's4' }))?.toString(), encode({ e: 0, w: 9, n: -1 }));
    t.is((await byWorker.lookupRange({ gte: 10 })).length, 199);
    t.false((await byWorker.lookupRange({})).some(([k]) => Buffer.from(client.encodeKey(k)).equals(client.encodeKey(changed))));
    // A write through both indexes brings it back into both.
    await client.putIndexed(changed, encode({ e: 0, w: 9, n: -1 }), { [byEnergy.name]: [100], [byWorker.name]: [19] });
    t.deepEqual(texts(await byWorker.lookup(19)), [[changed, encode({ e: 0, w: 9, n: -1 })]]);
    t.is((await byEnergy.lookupRange({ gte: 100 })).length, 200);

    // Bad builds.
    const same = await client.createIndex('same-db-build', { kind: 'local', primaryDb: 's5', indexDb: 's5', keyType: 'int32' });
    const error = await t.throwsAsync(same.build(() => []), { instanceOf: HpckvError });
    t.is(error?.code, ErrorCodes.BAD_REQUEST);
    await t.throwsAsync(byEnergy.build(() => [], { pageEntries: 0 }), { instanceOf: RangeError });
    const bad = await t.throwsAsync(byEnergy.build(() => ['not a float']), { instanceOf: HpckvError });
    t.is(bad?.code, ErrorCodes.BAD_KEY);
  });
}

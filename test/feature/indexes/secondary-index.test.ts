import test from 'ava';
import { Client } from '../../../client/client.js';
import type { IndexKind, SecondaryIndex } from '../../../client/secondary-index.js';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import { keyCodec } from '../../../core/keys/key-codec.js';
import { parseKeyType, type KeyValue } from '../../../core/keys/key-type.js';
import { b64, launchIndexGroups, stopIndexGroups, type IndexGroup } from '../../support/index-groups.js';
import { seededUint32 } from '../../../examples/seeded-random.js';

/**
 * Secondary indexes over real server processes: the same scenarios on a hash group (string
 * primary keys) and a range group (int32 primary keys cut at 100 and 200, tiny scan pages), for global indexes
 * (hash and range partitioned) and local ones.
 */

let setups: IndexGroup[] = [];
const float64 = keyCodec(parseKeyType('float64'));

test.before(async () => {
  setups = await launchIndexGroups('index', ['default', 'idx', 'other', 'pa', 'pb', 'pc'], 'rec-');
});

test.after.always(() => stopIndexGroups(setups));

/** Records found by a lookup, as [key, value-as-text]. */
const texts = (found: Array<[KeyValue, Buffer]>): Array<[KeyValue, string]> => found.map(([k, v]) => [k, v.toString()]);

/** Global indexes: hash partitioned, and range partitioned at 0.5 and 10 over float64 secondary keys. */
const variants: Array<{ kind: IndexKind; label: string; primaryDb: string; partition?: { scheme: 'range'; boundaries: string[]; epoch: number } }> = [
  { kind: 'global', label: 'global-hash', primaryDb: 'pa' },
  { kind: 'global', label: 'global-range', primaryDb: 'pb', partition: { scheme: 'range', boundaries: [b64(float64.encode(0.5)), b64(float64.encode(10))], epoch: 0 } },
  { kind: 'local', label: 'local', primaryDb: 'pc' },
];

for (const setupName of ['hash', 'range']) {
  for (const variant of variants) {
    test(`${setupName} group, ${variant.label}: lookup, range lookup, update, delete, open by name`, async (t) => {
      const { client, key, group } = setups.find((s) => s.name === setupName)!;
      const name = `price-${variant.label}`;
      const db = { db: variant.primaryDb };
      const index = await client.createIndex(name, { kind: variant.kind, primaryDb: variant.primaryDb, indexDb: 'idx', keyType: 'float64', ...(variant.partition ? { partition: variant.partition } : {}) });
      const prices = [-3, 0, 0.25, 0.25, 1, 7.5, 7.5, 7.5, 12, 100];
      for (let i = 0; i < prices.length; i++) await index.put(key(i * 31 % 300), `item${i}`, [prices[i]!]);
      const itemsAt = (price: number): Array<[KeyValue, string]> => prices.flatMap((p, i) => (p === price ? [[key(i * 31 % 300), `item${i}`] as [KeyValue, string]] : []))
        .sort((a, b) => Buffer.compare(client.encodeKey(a[0]), client.encodeKey(b[0])));
      t.deepEqual(texts(await index.lookup(7.5)), itemsAt(7.5));
      t.deepEqual(texts(await index.lookup(0.25)), itemsAt(0.25));
      t.deepEqual(await index.lookup(8), []);
      t.is((await index.lookup(7.5, { limit: 2 })).length, 2);
      // Range lookup in secondary-key order: [0.25, 12).
      t.deepEqual(texts(await index.lookupRange({ gte: 0.25, lt: 12 })), [...itemsAt(0.25), ...itemsAt(1), ...itemsAt(7.5)]);
      t.deepEqual(texts(await index.lookupRange({ gt: 0.25, lte: 12 })), [...itemsAt(1), ...itemsAt(7.5), ...itemsAt(12)]);
      t.deepEqual((await index.lookupRange({})).length, prices.length);
      const scanned: number[] = [];
      for await (const match of index.scan({ lt: 1 })) scanned.push(match.secondaryKey as number);
      t.deepEqual(scanned, [-3, 0, 0.25, 0.25]);
      // The record stored is the plain value: an ordinary get sees it.
      t.is((await client.get(key(5 * 31 % 300), db))?.toString(), 'item5');

      // Update: item5 moves from 7.5 to 2 (and its value changes); the old lookup no longer finds it.
      await index.put(key(5 * 31 % 300), 'item5-moved', [2]);
      prices[5] = 2;
      t.false((await index.lookup(7.5)).some(([k]) => Buffer.from(client.encodeKey(k)).equals(client.encodeKey(key(5 * 31 % 300)))));
      t.deepEqual(texts(await index.lookup(2)), [[key(5 * 31 % 300), 'item5-moved']]);
      // The same value, new secondary keys (two of them): still no stale match.
      await index.put(key(5 * 31 % 300), 'item5-moved', [3, 4]);
      t.deepEqual(await index.lookup(2), []);
      t.is((await index.lookup(3)).length, 1);
      t.is((await index.lookup(4)).length, 1);
      // Delete removes the record and its entries.
      await index.del(key(5 * 31 % 300));
      t.deepEqual(await index.lookup(3), []);
      t.is(await client.get(key(5 * 31 % 300), db), undefined);
      // A plain put behind the index's back never makes a record show up under a stale key.
      await client.put(key(0), 'changed behind the index', db);
      t.false((await index.lookup(-3)).some(([, v]) => v.toString() === 'changed behind the index'));

      // A second client opens the index by name and sees the same data.
      const other = await Client.open(group.groupFile);
      const reopened = await other.index(name);
      t.deepEqual(reopened.definition, index.definition);
      t.deepEqual(texts(await reopened.lookup(7.5)), itemsAt(7.5).filter(([k]) => !Buffer.from(client.encodeKey(k)).equals(client.encodeKey(key(5 * 31 % 300)))));
      // Creating it again with the same definition opens it; another definition is refused.
      const again = await other.createIndex(name, { kind: variant.kind, primaryDb: variant.primaryDb, indexDb: 'idx', keyType: 'float64', ...(variant.partition ? { partition: variant.partition } : {}) });
      t.deepEqual(again.definition, index.definition);
      const conflict = await t.throwsAsync(other.createIndex(name, { kind: variant.kind, primaryDb: variant.primaryDb, indexDb: 'idx', keyType: 'string' }), { instanceOf: HpckvError });
      t.is(conflict?.code, ErrorCodes.INDEX_EXISTS);
      const elsewhere = await t.throwsAsync(other.createIndex(name, { kind: variant.kind, primaryDb: variant.primaryDb, indexDb: 'other', keyType: 'float64' }), { instanceOf: HpckvError });
      t.is(elsewhere?.code, ErrorCodes.INDEX_EXISTS);
      await other.close();
    });
  }

  test(`${setupName} group: model check, 500 records with a category, global and local`, async (t) => {
    const { client, key } = setups.find((s) => s.name === setupName)!;
    const global = await client.createIndex('cat-global', { kind: 'global', indexDb: 'idx', keyType: 'int32' });
    const local = await client.createIndex('cat-local', { kind: 'local', indexDb: 'idx', keyType: 'int32' });
    const nextUint32 = seededUint32(setupName === 'hash' ? 7 : 11);
    const random = (n: number): number => nextUint32() % n;
    const model = new Map<number, { category: number; value: string }>();
    // Writes to one record are chained in program order; different records run in parallel.
    const chains = new Map<number, Promise<void>>();
    const chain = (id: number, write: () => Promise<void>): void => {
      chains.set(id, (chains.get(id) ?? Promise.resolve()).then(write));
    };
    for (let i = 0; i < 1500; i++) {
      const id = random(500);
      if (random(10) === 0) {
        model.delete(id);
        chain(id, async () => { await global.del(key(id)); await local.del(key(id)); });
      } else {
        const category = random(8);
        const value = `w${i}-${id}-${category}`;
        model.set(id, { category, value });
        chain(id, async () => { await global.put(key(id), value, [category]); await local.put(key(id), value, [category]); });
      }
      if (i % 100 === 99) await Promise.all(chains.values());
    }
    await Promise.all(chains.values());
    for (let category = 0; category < 8; category++) {
      const expected = [...model].filter(([, r]) => r.category === category)
        .map(([id, r]): [KeyValue, string] => [key(id), r.value])
        .sort((a, b) => Buffer.compare(client.encodeKey(a[0]), client.encodeKey(b[0])));
      t.deepEqual(texts(await global.lookup(category)), expected, `global category ${category}`);
      t.deepEqual(texts(await local.lookup(category)), expected, `local category ${category}`);
    }
    const all = (await global.lookupRange({ gte: 2, lt: 5 })).length;
    t.is(all, [...model.values()].filter((r) => r.category >= 2 && r.category < 5).length);
    t.is((await local.lookupRange({ gte: 2, lt: 5 })).length, all);
  });

  test(`${setupName} group: bad input is a typed error`, async (t) => {
    const { client, key } = setups.find((s) => s.name === setupName)!;
    const code = async (promise: Promise<unknown>): Promise<string | undefined> =>
      (await t.throwsAsync(promise, { instanceOf: HpckvError }))?.code;
    t.is(await code(client.index('no-such-index')), ErrorCodes.UNKNOWN_INDEX);
    t.is(await code(client.index('no-such-index', { indexDb: 'idx' })), ErrorCodes.UNKNOWN_INDEX);
    t.is(await code(client.createIndex('x', { kind: 'global', indexDb: 'missing', keyType: 'int32' })), ErrorCodes.UNKNOWN_DATABASE);
    t.is(await code(client.createIndex('x', { kind: 'global', indexDb: 'idx', primaryDb: 'missing', keyType: 'int32' })), ErrorCodes.UNKNOWN_DATABASE);
    t.is(await code(client.createIndex('x', { kind: 'global', indexDb: 'idx', keyType: 'int33' })), ErrorCodes.BAD_CONFIG);
    t.is(await code(client.createIndex('bad name!', { kind: 'global', indexDb: 'idx', keyType: 'int32' })), ErrorCodes.BAD_CONFIG);
    t.is(await code(client.createIndex('x', { kind: 'local', indexDb: 'idx', keyType: 'int32', partition: { scheme: 'hash', virtualNodes: 8, seed: 0 } })), ErrorCodes.BAD_CONFIG);
    t.is(await code(client.createIndex('x', { kind: 'global', indexDb: 'idx', keyType: 'int32', partition: { scheme: 'range', boundaries: [], epoch: 0 } })), ErrorCodes.BAD_CONFIG);
    const index: SecondaryIndex = await client.createIndex('typed', { kind: 'local', indexDb: 'idx', keyType: 'tuple(string,int32)' });
    t.is(await code(index.put(key(1), 'v', [['a']])), ErrorCodes.BAD_KEY);
    t.is(await code(index.put(key(1), 'v', [7])), ErrorCodes.BAD_KEY);
    t.is(await code(index.lookup(['a', 1.5])), ErrorCodes.BAD_KEY);
    t.is(await code(index.lookup(['a', 1], { db: 'other' })), ErrorCodes.BAD_REQUEST);
    await index.put(key(1), 'v', [['a', 1], ['a', 2]]);
    t.deepEqual(texts(await index.lookup(['a', 2])), [[key(1), 'v']]);
    t.is(await code(index.lookup(['a', 1], { timeoutMs: 1, signal: AbortSignal.abort() })), ErrorCodes.ABORTED);
  });
}

test('malformed index requests are HPCKV_ERR_BAD_REQUEST before any store is touched', async (t) => {
  const { RpcClient } = await import('../../../core/rpc/rpc-client.js');
  const { client, group } = setups[0]!;
  const raw = await RpcClient.connect(group.group.servers[0]!.address, client.limits);
  const index = Buffer.from('ix\u0000');
  const key = Buffer.from('k');
  const writeId = Buffer.alloc(8);
  const part = { indexDb: 'idx', index, local: true, secondaryKeys: [Buffer.from('s')] };
  const bad: Array<[string, Record<string, unknown>]> = [
    ['indexWrite', { db: 'default', key, value: Buffer.from('v'), writeId: Buffer.alloc(3), indexes: [part] }],
    ['indexWrite', { db: 'default', key, value: 5, writeId, indexes: [part] }],
    ['indexWrite', { db: 'default', key, value: null, writeId, indexes: [] }],
    ['indexWrite', { db: 'default', key, value: null, writeId, indexes: [{ ...part, local: 'yes' }] }],
    ['indexWrite', { db: 'default', key, value: null, writeId, indexes: [{ ...part, index: Buffer.from('no-terminator') }] }],
    ['indexWrite', { db: 'default', key, value: null, writeId, indexes: [{ ...part, secondaryKeys: [Buffer.alloc(0)] }] }],
    ['indexWrite', { db: 'default', key, value: null, writeId, indexes: [part, part] }],
    ['indexLookup', { db: 'default', indexDb: 'idx', index, limit: 0 }],
    ['indexLookup', { db: 'default', indexDb: 'idx', index, gt: key, gte: key }],
    ['indexGet', { db: 'default', indexDb: 'idx', index, packedKeys: Buffer.alloc(2), packedWriteIds: Buffer.alloc(4) }],
  ];
  for (const [op, body] of bad) {
    const error = await t.throwsAsync(raw.call(op, body), { instanceOf: HpckvError });
    t.is(error?.code, ErrorCodes.BAD_REQUEST, `${op} ${JSON.stringify(body)}`);
  }
  const unknownDb = await t.throwsAsync(raw.call('indexLookup', { db: 'default', indexDb: 'nope', index }), { instanceOf: HpckvError });
  t.is(unknownDb?.code, ErrorCodes.UNKNOWN_DATABASE);
  raw.close();
});

import test from 'ava';
import {
  backrefKey, catalogKey, decodeBackref, decodeEntryKey, encodeBackref, entryKey, entryRange, exactEntryRange, indexNamespace,
  type SecondaryBounds,
} from '../../../core/index-entry-key.js';
import { keyCodec } from '../../../core/keys/key-codec.js';
import { parseKeyType } from '../../../core/keys/key-type.js';

let seed = 42;
const random = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
/** Short byte strings over a tiny alphabet rich in 0x00, 0x01, 0x02 and 0xFF, so escapes, prefixes and separators collide. */
const bytes = (max: number): Buffer => Buffer.from(Array.from({ length: random(max + 1) }, () => [0x00, 0x01, 0x02, 0xff, 0x61][random(5)]!));
const nonEmpty = (max: number): Buffer => { for (;;) { const b = bytes(max); if (b.length > 0) return b; } };

const ns = indexNamespace('by-owner');
const W = Buffer.alloc(8, 7);

test('entries sort by secondary key, then primary key, and decode back', (t) => {
  const items = Array.from({ length: 600 }, () => ({ s: nonEmpty(4), pk: nonEmpty(4) }));
  const keys = items.map(({ s, pk }) => ({ s, pk, key: entryKey(ns, s, pk, W) }));
  const byKey = [...keys].sort((a, b) => Buffer.compare(a.key, b.key));
  const byModel = [...keys].sort((a, b) => Buffer.compare(a.s, b.s) || Buffer.compare(a.pk, b.pk));
  t.deepEqual(byKey.map((k) => [k.s, k.pk]), byModel.map((k) => [k.s, k.pk]));
  for (const { s, pk, key } of keys) {
    const decoded = decodeEntryKey(ns, key);
    t.deepEqual([decoded?.secondary, decoded?.primaryKey, decoded?.writeId], [s, pk, W]);
  }
  t.is(decodeEntryKey(ns, catalogKey(ns)), null);
  t.is(decodeEntryKey(ns, backrefKey(ns, Buffer.from('pk'))), null);
  t.is(decodeEntryKey(indexNamespace('other'), keys[0]!.key), null);
});

test('the exact range of a secondary key holds exactly its entries (prefix property), even for s and s + 00', (t) => {
  const secondaries = [Buffer.from('a'), Buffer.from('a\u0000'), Buffer.from('a\u0000\u0000'), Buffer.from('a\u0001'), Buffer.from('ab'), Buffer.of(0xff)];
  const pks = [Buffer.of(0x00), Buffer.of(0xff, 0xff), Buffer.from('p'), Buffer.of(0x01, 0x00)];
  for (const s of secondaries) {
    const { gte, lt } = exactEntryRange(ns, s);
    for (const other of secondaries) {
      for (const pk of pks) {
        const key = entryKey(ns, other, pk, W);
        const inside = Buffer.compare(key, gte) >= 0 && Buffer.compare(key, lt) < 0;
        t.is(inside, other.equals(s), `${s.toString('hex')} vs ${other.toString('hex')} pk ${pk.toString('hex')}`);
      }
    }
  }
});

test('entry ranges over secondary bounds match the model for gt/gte/lt/lte, and stay inside the index', (t) => {
  const entries = Array.from({ length: 300 }, () => { const s = nonEmpty(3); return { s, key: entryKey(ns, s, nonEmpty(3), W) }; });
  const foreign = [catalogKey(ns), backrefKey(ns, Buffer.of(0)), entryKey(indexNamespace('by-owner2'), Buffer.of(1), Buffer.of(1), W)];
  for (let round = 0; round < 200; round++) {
    const bounds: SecondaryBounds = {};
    const lower = random(3);
    const upper = random(3);
    if (lower === 1) bounds.gt = nonEmpty(3); else if (lower === 2) bounds.gte = nonEmpty(3);
    if (upper === 1) bounds.lt = nonEmpty(3); else if (upper === 2) bounds.lte = nonEmpty(3);
    const { gte, lt } = entryRange(ns, bounds);
    const inRange = (key: Buffer): boolean => Buffer.compare(key, gte) >= 0 && Buffer.compare(key, lt) < 0;
    for (const { s, key } of entries) {
      const want = (bounds.gt === undefined || Buffer.compare(s, bounds.gt) > 0) && (bounds.gte === undefined || Buffer.compare(s, bounds.gte) >= 0)
        && (bounds.lt === undefined || Buffer.compare(s, bounds.lt) < 0) && (bounds.lte === undefined || Buffer.compare(s, bounds.lte) <= 0);
      t.is(inRange(key), want);
    }
    for (const key of foreign) t.false(inRange(key));
  }
});

test('typed secondary keys keep their natural order inside entry keys (float64, tuples)', (t) => {
  const floats = keyCodec(parseKeyType('float64'));
  const values = [-Infinity, -1e9, -1, -0, 0, 1e-300, 2, 1e9, Infinity];
  const keys = [...values].reverse().map((v) => ({ v, key: entryKey(ns, floats.encode(v), Buffer.from('pk'), W) }));
  t.deepEqual(keys.sort((a, b) => Buffer.compare(a.key, b.key)).map((k) => Object.is(k.v, -0) ? '-0' : String(k.v)),
    values.map((v) => Object.is(v, -0) ? '-0' : String(v)));
  const tuples = keyCodec(parseKeyType('tuple(string,int32)'));
  const tv: Array<[string, number]> = [['', 5], ['a', -1], ['a', 3], ['a\u0000', -7], ['ab', 0], ['b', -100]];
  const tk = [...tv].reverse().map((v) => ({ v, key: entryKey(ns, tuples.encode(v), Buffer.of(0xff), W) }));
  t.deepEqual(tk.sort((a, b) => Buffer.compare(a.key, b.key)).map((k) => k.v), tv);
});

test('back-references round-trip and damaged ones are refused', (t) => {
  const fp = Buffer.alloc(16, 3);
  const keys = [Buffer.from('x'), Buffer.of(0, 0xff)];
  const decoded = decodeBackref(encodeBackref(W, fp, keys), 10);
  t.deepEqual([decoded?.writeId, decoded?.fingerprint, decoded?.secondaryKeys], [W, fp, keys]);
  t.is(decodeBackref(Buffer.from('short'), 10), null);
  t.is(decodeBackref(Buffer.concat([encodeBackref(W, fp, keys), Buffer.of(1)]), 10), null);
  t.deepEqual(decodeBackref(encodeBackref(W, fp, []), 10)?.secondaryKeys, []);
});

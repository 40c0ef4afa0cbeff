import test from 'ava';
import { createPartitioner } from '../../../partition/partitioner.js';
import { RangeTable } from '../../../partition/range-table.js';
import { randomKeys, seededRandom, type Random } from './random.js';

const cmp = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(a, b);

/** The definition, by a linear walk: the owner is the number of boundaries <= key. */
function linearOwner(boundaries: readonly Uint8Array[], key: Uint8Array): number {
  let owner = 0;
  for (const boundary of boundaries) if (cmp(boundary, key) <= 0) owner++;
  return owner;
}

/** Short keys over a small alphabet so that prefixes and near-misses of boundaries are common. */
function shortKey(random: Random, alphabet: number, maxLength: number): Uint8Array {
  return Uint8Array.from({ length: 1 + random.below(maxLength) }, () => random.below(alphabet));
}

function randomBoundaries(random: Random, count: number, alphabet: number, maxLength: number): Uint8Array[] {
  const seen = new Map<string, Uint8Array>();
  while (seen.size < count) {
    const key = shortKey(random, alphabet, maxLength);
    seen.set(Buffer.from(key).toString('hex'), key);
  }
  return [...seen.values()].sort(cmp);
}

test('serverFor matches the linear definition on random tables and keys', (t) => {
  const random = seededRandom(11);
  for (let round = 0; round < 20; round++) {
    const servers = 1 + random.below(16);
    const boundaries = randomBoundaries(random, servers - 1, 4 + random.below(250), 1 + random.below(5));
    const table = new RangeTable(boundaries, round);
    t.is(table.serverCount, servers);
    t.is(table.epoch, round);
    for (let i = 0; i < 500; i++) {
      const key = shortKey(random, 256, 6);
      if (table.serverFor(key) !== linearOwner(boundaries, key)) t.fail(`key ${Buffer.from(key).toString('hex')}`);
    }
  }
  t.pass();
});

test('a key equal to boundary i goes to server i+1, the key just below it to server i', (t) => {
  const boundaries = [Uint8Array.of(2), Uint8Array.of(2, 0), Uint8Array.of(5, 1), Uint8Array.of(9)];
  const table = new RangeTable(boundaries);
  boundaries.forEach((boundary, i) => t.is(table.serverFor(boundary), i + 1));
  t.is(table.serverFor(new Uint8Array(0)), 0);
  t.is(table.serverFor(Uint8Array.of(1, 255, 255)), 0);
  t.is(table.serverFor(Uint8Array.of(2)), 1);
  t.is(table.serverFor(Uint8Array.of(5, 0, 255)), 2);
  t.is(table.serverFor(Uint8Array.of(255, 255)), 4);
  t.is(new RangeTable([]).serverFor(Uint8Array.of(7)), 0);
});

/** Every byte string of length <= 3 over {0, 1, 2}: with bounds and boundaries of length <= 2 over
 * the same alphabet, any non-empty intersection of a range with a server contains one of these
 * (its smallest key is a bound, a bound + 0x00, or a boundary), so brute force is exact. */
const UNIVERSE: Uint8Array[] = (() => {
  const out: Uint8Array[] = [new Uint8Array(0)];
  for (let length = 1; length <= 3; length++) {
    for (let n = 0; n < 3 ** length; n++) out.push(Uint8Array.from({ length }, (_, i) => Math.floor(n / 3 ** i) % 3));
  }
  return out;
})();

test('serversForRange matches brute force for every bound combination', (t) => {
  const random = seededRandom(12);
  let checked = 0;
  for (let round = 0; round < 60; round++) {
    const servers = 1 + random.below(7);
    const boundaries = randomBoundaries(random, servers - 1, 3, 2);
    const table = new RangeTable(boundaries);
    for (let i = 0; i < 40; i++) {
      const loKey = shortKey(random, 3, 2);
      const hiKey = shortKey(random, 3, 2);
      for (const lo of [undefined, { key: loKey, inclusive: true }, { key: loKey, inclusive: false }]) {
        for (const hi of [undefined, { key: hiKey, inclusive: true }, { key: hiKey, inclusive: false }]) {
          const expected = [...new Set(UNIVERSE.filter((key) => {
            if (lo !== undefined && (lo.inclusive ? cmp(key, lo.key) < 0 : cmp(key, lo.key) <= 0)) return false;
            if (hi !== undefined && (hi.inclusive ? cmp(key, hi.key) > 0 : cmp(key, hi.key) >= 0)) return false;
            return true;
          }).map((key) => linearOwner(boundaries, key)))].sort((a, b) => a - b);
          const actual = table.serversForRange(lo, hi);
          if (JSON.stringify(actual) !== JSON.stringify(expected)) {
            t.fail(`table ${boundaries.map((b) => Buffer.from(b).toString('hex'))} lo ${JSON.stringify(lo)} hi ${JSON.stringify(hi)}: ${String(actual)} != ${String(expected)}`);
          }
          checked++;
        }
      }
    }
  }
  t.is(checked, 60 * 40 * 9);
});

test('serversForRange edge cases: exact boundaries, successor keys, empty ranges', (t) => {
  const table = new RangeTable([Uint8Array.of(10), Uint8Array.of(10, 0), Uint8Array.of(20)]);
  const bound = (key: number[], inclusive: boolean) => ({ key: Uint8Array.from(key), inclusive });
  t.deepEqual(table.serversForRange(), [0, 1, 2, 3]);
  t.deepEqual(table.serversForRange(undefined, bound([10], false)), [0]);
  t.deepEqual(table.serversForRange(undefined, bound([10], true)), [0, 1]);
  // Server 1 owns only the key [10]: excluding it skips straight to server 2.
  t.deepEqual(table.serversForRange(bound([10], false), bound([15], true)), [2]);
  t.deepEqual(table.serversForRange(bound([10], true), bound([10], true)), [1]);
  t.deepEqual(table.serversForRange(bound([10], true), bound([10], false)), []);
  t.deepEqual(table.serversForRange(bound([30], true), bound([5], true)), []);
  t.deepEqual(table.serversForRange(undefined, bound([], false)), []);
  t.deepEqual(table.serversForRange(bound([20], true)), [3]);
  t.deepEqual(table.serversInOrder(bound([5], true), bound([20], false)), [0, 1, 2]);
});

test('fromSample gives each server an equal share (within one) of the distinct sample keys', (t) => {
  const sample = randomKeys(13, 10_000, 8);
  for (const servers of [1, 2, 7, 16, 100]) {
    const table = RangeTable.fromSample(sample, servers, 3);
    t.is(table.serverCount, servers);
    t.is(table.epoch, 3);
    const counts = new Array<number>(servers).fill(0);
    for (const key of sample) counts[table.serverFor(key)]!++;
    t.is(Math.max(...counts) - Math.min(...counts) <= 1, true, `${servers} servers: ${String(counts)}`);
  }
});

test('fromSample ignores duplicates and handles tiny samples', (t) => {
  const random = seededRandom(14);
  const distinct = randomKeys(15, 200, 4);
  const repeated = distinct.flatMap((key, i) => Array.from({ length: 1 + (i % 7) * random.below(5) }, () => Uint8Array.from(key)));
  t.deepEqual(RangeTable.fromSample(repeated, 9).boundaries, RangeTable.fromSample(distinct, 9).boundaries);

  const abc = ['a', 'b', 'c'].map((s) => Buffer.from(s));
  const three = RangeTable.fromSample([abc[2]!, abc[0]!, abc[1]!, abc[0]!], 3);
  t.deepEqual(three.boundaries.map((b) => Buffer.from(b).toString()), ['b', 'c']);
  t.deepEqual(abc.map((key) => three.serverFor(key)), [0, 1, 2]);
  t.throws(() => RangeTable.fromSample([abc[0]!, abc[0]!, abc[1]!], 3), { instanceOf: RangeError, message: /at least 3 distinct keys, got 2/ });
  t.deepEqual(RangeTable.fromSample([], 1).boundaries, []);
  t.throws(() => RangeTable.fromSample([], 2), { instanceOf: RangeError });
  // The empty key can be in a sample; it is the smallest key and never becomes a boundary.
  t.deepEqual(RangeTable.fromSample([new Uint8Array(0), abc[0]!], 2).boundaries, [Uint8Array.from(abc[0]!)]);
  t.throws(() => RangeTable.fromSample(['a' as unknown as Uint8Array], 1), { instanceOf: TypeError });
});

test('invalid boundaries are refused', (t) => {
  const k = (...bytes: number[]) => Uint8Array.from(bytes);
  t.throws(() => new RangeTable([k(2), k(1)]), { instanceOf: RangeError, message: /strictly increasing/ });
  t.throws(() => new RangeTable([k(1), k(1)]), { instanceOf: RangeError, message: /strictly increasing/ });
  t.throws(() => new RangeTable([k(1)], 0, 3), { instanceOf: RangeError, message: /3 servers need 2 boundaries, got 1/ });
  t.throws(() => new RangeTable([k()]), { instanceOf: RangeError, message: /empty/ });
  t.throws(() => new RangeTable(['a' as unknown as Uint8Array]), { instanceOf: TypeError });
  t.throws(() => new RangeTable('ab' as unknown as Uint8Array[]), { instanceOf: TypeError });
  t.throws(() => new RangeTable([k(1)], -1), { instanceOf: RangeError, message: /epoch/ });
  t.throws(() => new RangeTable([k(1)], 1.5), { instanceOf: RangeError, message: /epoch/ });
});

test('a table keeps its own copies and round-trips through its group-file spec', (t) => {
  const input = [Uint8Array.of(1), Uint8Array.of(200, 7)];
  const table = new RangeTable(input, 9);
  input[0]![0] = 250;
  t.is(table.serverFor(Uint8Array.of(100)), 1);
  table.boundaries[0]![0] = 250;
  t.is(table.serverFor(Uint8Array.of(100)), 1);
  const spec = table.toSpec();
  t.deepEqual(spec, { scheme: 'range', boundaries: ['AQ==', 'yAc='], epoch: 9 });
  const partitioner = createPartitioner(spec, 3);
  t.is(partitioner.scheme, 'range');
  t.deepEqual(partitioner.serversInOrder?.({ key: Uint8Array.of(0), inclusive: true }, undefined), [0, 1, 2]);
  t.throws(() => createPartitioner(spec, 4), { instanceOf: RangeError });
  t.throws(() => createPartitioner({ scheme: 'range', boundaries: ['A Q=='], epoch: 0 }, 2), { instanceOf: TypeError, message: /base64/ });
  // Hash partitioners know no order: a scan merges all servers.
  t.is(createPartitioner({ scheme: 'hash', virtualNodes: 4, seed: 0 }, 3).serversInOrder, undefined);
});

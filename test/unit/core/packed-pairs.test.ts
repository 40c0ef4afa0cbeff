import test from 'ava';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import {
  PACKED_ABSENT, packPairs, packedCount, packedHeaderBytes, packedLayout, packedPairsBytes, slotsLayoutBytes, unpackPairs, unpackSlots,
} from '../../../core/regions/packed-pairs.js';

/** The packed-pairs and slots layouts of client memory (core/regions/packed-pairs.ts). */

const b = (s: string): Buffer => Buffer.from(s);

test('packPairs writes the documented layout byte for byte, and unpackPairs reads it back', (t) => {
  const packed = packPairs([[b('ab'), b('xyz')], [b('c'), b('')], [b('dd'), undefined]]);
  const expected = Buffer.concat([
    Buffer.from([3, 0, 0, 0]),
    Buffer.from([2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0]),
    Buffer.from([3, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]),
    b('abcdd'), b('xyz'),
  ]);
  t.deepEqual(packed, expected);
  t.is(packedPairsBytes([[b('ab'), b('xyz')], [b('c'), b('')], [b('dd'), null]]), expected.length);
  t.deepEqual(unpackPairs(packed).map(([k, v]) => [k.toString(), v?.toString()]), [['ab', 'xyz'], ['c', ''], ['dd', undefined]]);
  t.deepEqual(packPairs([]), Buffer.from([0, 0, 0, 0]));
  t.deepEqual(unpackPairs(Buffer.from([0, 0, 0, 0])), []);
});

test('packPairs into a target at an offset writes only its bytes there; a target too small is REGION_TOO_SMALL', (t) => {
  const target = Buffer.alloc(40, 0xee);
  const written = packPairs([[b('k'), b('v')]], target, 5);
  t.is(written.length, packedHeaderBytes(1) + 2);
  t.is(written.buffer, target.buffer, 'a view of the target, not a copy');
  t.deepEqual(target.subarray(0, 5), Buffer.alloc(5, 0xee));
  t.deepEqual(target.subarray(5 + written.length), Buffer.alloc(40 - 5 - written.length, 0xee));
  t.deepEqual(unpackPairs(target.subarray(5, 5 + written.length)).map(([k, v]) => [k.toString(), v?.toString()]), [['k', 'v']]);
  const error = t.throws(() => packPairs([[b('key'), b('value')]], Buffer.alloc(20), 4), { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.REGION_TOO_SMALL);
  t.is((error?.details as { bytesNeeded: number }).bytesNeeded, packedHeaderBytes(1) + 8);
});

test('packPairs packs string keys and values as their UTF-8 bytes, the same layout as the bytes', (t) => {
  const packed = packPairs([['r1', 'one'], ['κλειδί', b('v')], [b('k'), '']]);
  t.deepEqual(packed, packPairs([[b('r1'), b('one')], [b('κλειδί'), b('v')], [b('k'), b('')]]));
  t.deepEqual(unpackPairs(packed).map(([k, v]) => [k.toString(), v?.toString()]), [['r1', 'one'], ['κλειδί', 'v'], ['k', '']]);
  t.is(packed.readUInt32LE(4 + 4), Buffer.byteLength('κλειδί'), 'a key size counts UTF-8 bytes, not characters');
  t.is(packedPairsBytes([['r1', 'one'], ['κλειδί', null]]), packedHeaderBytes(2) + 2 + 3 + Buffer.byteLength('κλειδί'));
});

test('packPairs refuses keys and values that are neither bytes nor strings with a TypeError, writing nothing', (t) => {
  const target = Buffer.alloc(64, 0xee);
  const cases: Array<[unknown, RegExp]> = [
    [[[1, b('v')]], /^pair 0: the key must be a Uint8Array or a string, got number$/],
    [[[b('k'), b('v')], [b('k'), 7n]], /^pair 1: the value must be a Uint8Array or a string, got bigint$/],
    [[[['a'], b('v')]], /^pair 0: the key must be a Uint8Array or a string, got array$/],
    [[[null, b('v')]], /^pair 0: the key must be a Uint8Array or a string, got null$/],
    [[b('kv')], /^pair 0 must be a \[key, value\] array$/],
    ['pairs', /^pairs must be an array of \[key, value\] pairs$/],
  ];
  for (const [pairs, message] of cases) {
    t.throws(() => packPairs(pairs as never, target), { instanceOf: TypeError, message });
    t.throws(() => packedPairsBytes(pairs as never), { instanceOf: TypeError, message });
  }
  t.deepEqual(target, Buffer.alloc(64, 0xee), 'nothing was written');
});

test('round trips of many pairs of varying sizes, with trailing room after the layout', (t) => {
  const pairs = Array.from({ length: 500 }, (_, i) => [Buffer.alloc(1 + (i % 13), i), i % 7 === 0 ? undefined : Buffer.alloc(i % 31, 255 - (i % 256))] as const);
  const bytes = packedPairsBytes(pairs);
  const target = new Uint8Array(bytes + 100);
  packPairs(pairs, target);
  const back = unpackPairs(target);
  t.is(back.length, 500);
  back.forEach(([key, value], i) => {
    t.deepEqual(key, Buffer.from(pairs[i]![0]));
    t.deepEqual(value, pairs[i]![1] === undefined ? undefined : Buffer.from(pairs[i]![1]!));
  });
  const layout = packedLayout(500, Buffer.from(target.buffer, 4, 8 * 500), target.length);
  t.is(layout.totalBytes, bytes);
  t.is(layout.keyOffsets[0], packedHeaderBytes(500));
  t.is(layout.valueSizes[0], PACKED_ABSENT);
  t.is(layout.valueOffsets[1], layout.valueOffsets[0], 'an absent value takes no bytes');
  t.is(layout.keyOffsets[499]! + layout.keySizes[499]!, layout.valueOffsets[0]);
});

test('a count or sizes that overrun the bytes are BAD_LAYOUT', (t) => {
  const bad = (run: () => unknown, what: string): void => {
    t.is(t.throws(run, { instanceOf: HpckvError }, what)?.code, ErrorCodes.BAD_LAYOUT, what);
  };
  bad(() => unpackPairs(Buffer.alloc(3)), 'shorter than the count');
  bad(() => packedCount(Buffer.alloc(4), 3), 'fewer than 4 bytes available');
  const count2 = Buffer.from([2, 0, 0, 0]);
  bad(() => unpackPairs(Buffer.concat([count2, Buffer.alloc(15)])), 'header of 2 entries cut short');
  bad(() => packedCount(Buffer.from([0xff, 0xff, 0xff, 0xff]), 1000), 'a huge count');
  const packed = packPairs([[b('key'), b('value')]]);
  bad(() => unpackPairs(packed.subarray(0, packed.length - 1)), 'the value cut by one byte');
  const bigKey = Buffer.from(packed);
  bigKey.writeUInt32LE(1000, 4);
  bad(() => unpackPairs(bigKey), 'a key size beyond the bytes');
  bad(() => packedLayout(2, Buffer.alloc(15), 1000), 'size tables shorter than 8n');
  t.is(packedLayout(1, packed.subarray(4, 12), packed.length).totalBytes, packed.length);
});

test('unpackSlots: sizes first, values cut to their slot, absent keys, and BAD_LAYOUT when the slots do not fit', (t) => {
  const slotBytes = 4;
  const bytes = Buffer.alloc(slotsLayoutBytes(3, slotBytes));
  t.is(bytes.length, 12 + 12);
  bytes.writeUInt32LE(2, 0);
  bytes.writeUInt32LE(10, 4);
  bytes.writeUInt32LE(PACKED_ABSENT, 8);
  b('hi').copy(bytes, 12);
  b('abcd').copy(bytes, 16);
  t.deepEqual(unpackSlots(bytes, 3, slotBytes).map((s) => [s.value?.toString(), s.size, s.truncated]),
    [['hi', 2, false], ['abcd', 10, true], [undefined, undefined, false]]);
  t.deepEqual(unpackSlots(bytes, 0, slotBytes), []);
  t.is(t.throws(() => unpackSlots(bytes.subarray(0, 23), 3, slotBytes), { instanceOf: HpckvError })?.code, ErrorCodes.BAD_LAYOUT);
});

import test from 'ava';
import { SlicePartitioner } from '../../../partition/mdhim-slices.js';
import { createPartitioner } from '../../../partition/partitioner.js';
import type { SliceKeyType } from '../../../partition/slice-key-codec.js';

// Encoders written from the documented order-preserving formats (independent of the decoder).
const TOP64 = 1n << 63n;
function int64(value: bigint): Uint8Array {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt.asUintN(64, value) ^ TOP64);
  return new Uint8Array(out);
}
function uint64(value: bigint): Uint8Array {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(value);
  return new Uint8Array(out);
}
function int32(value: number): Uint8Array {
  const out = Buffer.alloc(4);
  out.writeUInt32BE((value ^ 0x8000_0000) >>> 0);
  return new Uint8Array(out);
}
function float64(value: number): Uint8Array {
  const out = Buffer.alloc(8);
  out.writeDoubleBE(value);
  if ((out[0]! & 0x80) !== 0) for (let i = 0; i < 8; i++) out[i] = ~out[i]! & 0xff;
  else out[0]! |= 0x80;
  return new Uint8Array(out);
}
function float32(value: number): Uint8Array {
  const out = Buffer.alloc(4);
  out.writeFloatBE(value);
  if ((out[0]! & 0x80) !== 0) for (let i = 0; i < 4; i++) out[i] = ~out[i]! & 0xff;
  else out[0]! |= 0x80;
  return new Uint8Array(out);
}
const mod = (a: number, n: number): number => ((a % n) + n) % n;

test('400 int64 keys over 4 servers with slice size 50 go to floor(k/50) % 4', (t) => {
  const slices = new SlicePartitioner(4, 'int64', 50);
  for (let k = 0; k < 400; k++) {
    t.is(slices.sliceOf(int64(BigInt(k))), BigInt(Math.floor(k / 50)));
    t.is(slices.serverFor(int64(BigInt(k))), Math.floor(k / 50) % 4);
  }
  t.is(slices.scheme, 'slices');
});

test('negative integer keys floor to their slice and keep the round-robin', (t) => {
  const slices = new SlicePartitioner(4, 'int64', 50);
  const small = new SlicePartitioner(3, 'int32', 7);
  for (let k = -500; k <= 500; k++) {
    t.is(slices.serverFor(int64(BigInt(k))), mod(Math.floor(k / 50), 4));
    t.is(small.serverFor(int32(k)), mod(Math.floor(k / 7), 3));
  }
  t.is(slices.sliceOf(int64(-1n)), -1n);
  t.is(slices.sliceOf(int64(-50n)), -1n);
  t.is(slices.sliceOf(int64(-51n)), -2n);
  const min = -(1n << 63n);
  t.is(slices.sliceOf(int64(min)), min / 50n - 1n);
  t.is(small.sliceOf(int32(-(2 ** 31))), BigInt(Math.floor(-(2 ** 31) / 7)));
});

test('uint64 keys near 2^64 slice exactly, with sizes given as decimal strings', (t) => {
  const top = (1n << 64n) - 1n;
  const by10 = new SlicePartitioner(4, 'uint64', 10);
  for (const k of [top, top - 1n, top - 9n, 1n << 63n, (1n << 53n) + 1n]) {
    t.is(by10.sliceOf(uint64(k)), k / 10n);
    t.is(by10.serverFor(uint64(k)), Number((k / 10n) % 4n));
  }
  const half = new SlicePartitioner(2, 'uint64', '9223372036854775808');
  t.is(half.sliceSize, 1n << 63n);
  t.is(half.serverFor(uint64(top)), 1);
  t.is(half.serverFor(uint64((1n << 63n) - 1n)), 0);
  t.deepEqual(half.toSpec(), { scheme: 'slices', keyType: 'uint64', sliceSize: '9223372036854775808' });
  t.deepEqual(by10.toSpec(), { scheme: 'slices', keyType: 'uint64', sliceSize: 10 });
});

test('float keys slice by floor(x / size), including negatives, zeros and non-finite values', (t) => {
  const slices = new SlicePartitioner(5, 'float64', 0.5);
  for (const x of [-1000.25, -3.5, -0.5, -0.1, -0, 0, 0.1, 0.49, 0.5, 2.75, 1e15, -1e15]) {
    t.is(slices.sliceOf(float64(x)), BigInt(Math.floor(x / 0.5)), String(x));
    t.is(slices.serverFor(float64(x)), mod(Math.floor(x / 0.5), 5));
  }
  const max = slices.sliceOf(float64(Number.MAX_VALUE));
  t.is(slices.sliceOf(float64(Infinity)), max);
  t.is(slices.sliceOf(float64(Number.NaN)), max);
  t.is(slices.sliceOf(float64(-Infinity)), slices.sliceOf(float64(-Number.MAX_VALUE)));
  const f32 = new SlicePartitioner(3, 'float32', 0.25);
  for (const x of [-2.5, -0.125, 0, 0.75, 1.5, 100]) t.is(f32.sliceOf(float32(x)), BigInt(Math.floor(x / 0.25)));
});

test('sliceRange gives the exact encoded keys of a slice, agreeing with sliceOf', (t) => {
  const slices = new SlicePartitioner(4, 'int64', 50);
  t.deepEqual(slices.sliceRange(3n), { lo: int64(150n), hi: int64(200n) });
  t.deepEqual(slices.sliceRange(-1n), { lo: int64(-50n), hi: int64(0n) });
  const last = ((1n << 63n) - 1n) / 50n;
  t.deepEqual(slices.sliceRange(last), { lo: int64(last * 50n), hi: undefined });
  t.is(slices.sliceRange(last + 1n), undefined);
  // Float rounding: 0.3 / 0.1 is 2.9999999999999996, so 0.3 is in slice 2; the range says so too.
  const floats = new SlicePartitioner(4, 'float64', 0.1);
  t.is(floats.sliceOf(float64(0.3)), 2n);
  for (const s of [-7n, -1n, 0n, 1n, 2n, 3n, 10n]) {
    const range = floats.sliceRange(s)!;
    t.is(floats.sliceOf(range.lo), s);
    t.is(floats.sliceOf(range.hi!), s + 1n);
    const before = Buffer.from(range.lo);
    before.writeBigUInt64BE(before.readBigUInt64BE() - 1n);
    t.is(floats.sliceOf(before), s - 1n);
  }
});

test('string and bytes keys slice on their first 8 bytes as a big-endian number', (t) => {
  const byFirstByte = new SlicePartitioner(3, 'string', (1n << 56n).toString());
  for (const s of ['a', 'abc', 'b', 'zebra', '\u00e9t\u00e9']) {
    const key = Buffer.from(s);
    t.is(byFirstByte.sliceOf(key), BigInt(key[0]!));
    t.is(byFirstByte.serverFor(key), key[0]! % 3);
  }
  t.is(byFirstByte.sliceOf(new Uint8Array(0)), 0n);
  const bytes = new SlicePartitioner(2, 'bytes', 1);
  // Keys sharing their first 8 bytes share a slice; shorter keys are zero-padded.
  t.is(bytes.sliceOf(Buffer.from('abcdefghXYZ')), bytes.sliceOf(Buffer.from('abcdefgh')));
  t.is(bytes.sliceOf(Buffer.from('ab')), bytes.sliceOf(Buffer.from('ab\0\0')));
  t.is(bytes.sliceOf(Buffer.from('ab')), Buffer.from('ab\0\0\0\0\0\0').readBigUInt64BE());
  t.deepEqual(byFirstByte.sliceRange(0x61n), { lo: Uint8Array.from(Buffer.from('a')), hi: Uint8Array.from(Buffer.from('b')) });
  t.deepEqual(byFirstByte.sliceRange(0n), { lo: new Uint8Array(0), hi: Uint8Array.of(1) });
});

test('serversInOrder lists slice owners in key order while the range spans fewer slices than servers', (t) => {
  const slices = createPartitioner({ scheme: 'slices', keyType: 'int64', sliceSize: 50 }, 4);
  const b = (k: number, inclusive: boolean) => ({ key: int64(BigInt(k)), inclusive });
  t.deepEqual(slices.serversInOrder?.(b(120, true), b(260, false)), [2, 3, 0, 1]);
  t.deepEqual(slices.serversInOrder?.(b(120, true), b(299, true)), [2, 3, 0, 1]);
  t.is(slices.serversInOrder?.(b(120, true), b(300, true)), undefined);
  t.deepEqual(slices.serversInOrder?.(b(120, true), b(300, false)), [2, 3, 0, 1]);
  t.deepEqual(slices.serversInOrder?.(b(149, false), b(160, true)), [3]);
  t.deepEqual(slices.serversInOrder?.(b(-1, true), b(0, true)), [3, 0]);
  t.deepEqual(slices.serversInOrder?.(b(10, true), b(10, false)), []);
  t.deepEqual(slices.serversInOrder?.(b(11, true), b(10, true)), []);
  t.is(slices.serversInOrder?.(undefined, b(10, true)), undefined);
});

test('bad slice sizes and key types are refused', (t) => {
  const bad: Array<[SliceKeyType, number | string]> = [['int64', 0], ['int64', -1], ['int64', 1.5], ['uint64', 'abc'], ['uint64', '-5'],
    ['int32', Number.NaN], ['float64', 0], ['float64', Infinity], ['float64', '1'], ['string', 0.5]];
  for (const [keyType, size] of bad) t.throws(() => new SlicePartitioner(2, keyType, size), { instanceOf: RangeError }, `${keyType} ${size}`);
  t.throws(() => new SlicePartitioner(2, 'decimal' as SliceKeyType, 1), { instanceOf: TypeError });
  t.throws(() => new SlicePartitioner(0, 'int64', 1), { instanceOf: RangeError });
  t.throws(() => new SlicePartitioner(2, 'int64', 1).serverFor(Uint8Array.of(1, 2, 3)), { instanceOf: RangeError, message: /8 bytes/ });
});

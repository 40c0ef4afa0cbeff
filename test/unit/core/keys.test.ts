// Property tests of the key codecs: for seeded random pairs (biased toward edge values and shared
// prefixes), byte order of encodings == natural order, and decode(encode(x)) is x.
import test, { type ExecutionContext } from 'ava';
import { keyCodec } from '../../../core/keys/key-codec.js';
import { formatKeyType, isScalarKeyType, type KeyType, type KeyValue, type ScalarKeyType } from '../../../core/keys/key-type.js';
import { seededRandom } from '../../../examples/seeded-random.js';

type Rand = () => number;

/** The project's seeded generator: the same spread of test cases on every run. */
const seeded: (seed: number) => Rand = seededRandom;

const below = (r: Rand, n: number): number => Math.floor(r() * n);
const pick = <T>(r: Rand, items: readonly T[]): T => items[below(r, items.length)]!;
const u32 = (r: Rand): number => below(r, 2 ** 32);
const u64 = (r: Rand): bigint => (BigInt(u32(r)) << 32n) | BigInt(u32(r));

const MIN_NORMAL64 = 2.2250738585072014e-308;
const FLOAT64_EDGES = [0, -0, 1, -1, Infinity, -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE,
  -Number.MAX_VALUE, MIN_NORMAL64, -MIN_NORMAL64, MIN_NORMAL64 - Number.MIN_VALUE, Number.EPSILON, 0.1, -0.1, 2 ** 53, -(2 ** 53)];
const FLOAT32_MAX = 3.4028234663852886e38;
const FLOAT32_EDGES = [0, -0, 1, -1, Infinity, -Infinity, 2 ** -149, -(2 ** -149), 2 ** -126, -(2 ** -126),
  2 ** -126 - 2 ** -149, FLOAT32_MAX, -FLOAT32_MAX, Math.fround(0.1), Math.fround(-0.1), 2 ** 24, -(2 ** 24)];
const INT32_EDGES = [0, -1, 1, -(2 ** 31), 2 ** 31 - 1, -(2 ** 31) + 1, 2 ** 31 - 2, 255, 256, -256];
const UINT32_EDGES = [0, 1, 2 ** 32 - 1, 2 ** 31, 2 ** 31 - 1, 255, 256];
const INT64_EDGES = [0n, -1n, 1n, -(1n << 63n), (1n << 63n) - 1n, -(1n << 63n) + 1n, -(1n << 32n), 1n << 32n];
const UINT64_EDGES = [0n, 1n, (1n << 64n) - 1n, 1n << 63n, (1n << 63n) - 1n, 1n << 32n];
// A small alphabet so that random strings share prefixes; code points around the UTF-8 width
// boundaries, NUL, a BOM, and astral characters against high-BMP ones.
const CHARS = ['', '\u0000', 'a', 'b', '\u007f', '\u0080', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\ufeff', '\uffff',
  '\u{10000}', '\u{1f600}', '\u{10ffff}'];
const BYTES = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];

function randomFloat64(r: Rand): number {
  const roll = r();
  if (roll < 0.3) return pick(r, FLOAT64_EDGES);
  if (roll < 0.5) return (r() - 0.5) * 2 ** below(r, 20);
  if (roll < 0.6) return (below(r, 2) ? -1 : 1) * Number.MIN_VALUE * below(r, 1000); // subnormals
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, u32(r));
  view.setUint32(4, u32(r));
  const value = view.getFloat64(0);
  return Number.isNaN(value) ? 0 : value;
}

function randomFloat32(r: Rand): number {
  const roll = r();
  if (roll < 0.3) return pick(r, FLOAT32_EDGES);
  if (roll < 0.5) return Math.fround((r() - 0.5) * 2 ** below(r, 20));
  if (roll < 0.6) return (below(r, 2) ? -1 : 1) * 2 ** -149 * below(r, 1000);
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, u32(r));
  const value = view.getFloat32(0);
  return Number.isNaN(value) ? 0 : value;
}

function randomScalar(r: Rand, type: ScalarKeyType): KeyValue {
  const edge = r() < 0.3;
  switch (type) {
    case 'int32': return edge ? pick(r, INT32_EDGES) : r() < 0.5 ? below(r, 21) - 10 : u32(r) - 2 ** 31;
    case 'uint32': return edge ? pick(r, UINT32_EDGES) : r() < 0.5 ? below(r, 21) : u32(r);
    case 'int64': return edge ? pick(r, INT64_EDGES) : r() < 0.5 ? BigInt(below(r, 21) - 10) : BigInt.asIntN(64, u64(r));
    case 'uint64': return edge ? pick(r, UINT64_EDGES) : r() < 0.5 ? BigInt(below(r, 21)) : u64(r);
    case 'float32': return randomFloat32(r);
    case 'float64': return randomFloat64(r);
    case 'string': return Array.from({ length: below(r, 6) }, () => pick(r, CHARS)).join('');
    case 'bytes': return Uint8Array.from({ length: below(r, 6) }, () => (r() < 0.7 ? pick(r, BYTES) : below(r, 256)));
  }
}

function randomValue(r: Rand, type: KeyType): KeyValue {
  return isScalarKeyType(type) ? randomScalar(r, type) : type.tuple.map((component) => randomValue(r, component));
}

/** A value near `a`: often equal, or (for tuples) sharing a prefix of its components. */
function randomNear(r: Rand, type: KeyType, a: KeyValue): KeyValue {
  if (r() < 0.15) return a;
  if (isScalarKeyType(type)) return randomScalar(r, type);
  const shared = below(r, type.tuple.length + 1);
  return type.tuple.map((component, i) => (i < shared ? (a as KeyValue[])[i]! : randomNear(r, component, (a as KeyValue[])[i]!)));
}

function randomType(r: Rand, depth: number): KeyType {
  if (depth > 0 && r() < 0.7) return pick(r, ['int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'string', 'bytes'] as const);
  return { tuple: Array.from({ length: 1 + below(r, 3) }, () => randomType(r, depth + 1)) };
}

/** Deep equality where -0 and +0 differ and bytes compare by content. */
function same(a: KeyValue, b: KeyValue): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]!));
  }
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.compare(a, b) === 0;
  }
  return Object.is(a, b);
}

function show(value: KeyValue): string {
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`;
  if (value instanceof Uint8Array) return `<${Buffer.from(value).toString('hex')}>`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  return Object.is(value, -0) ? '-0' : String(value);
}

function checkPairs(t: ExecutionContext, type: KeyType, seed: number, pairs: number): void {
  const codec = keyCodec(type);
  const r = seeded(seed);
  for (let i = 0; i < pairs; i++) {
    const a = randomValue(r, type);
    const b = randomNear(r, type, a);
    const ea = codec.encode(a);
    const eb = codec.encode(b);
    const bytes = Math.sign(Buffer.compare(ea, eb));
    const natural = Math.sign(codec.compare(a, b));
    if (bytes !== natural) {
      return t.fail(`${formatKeyType(type)}: ${show(a)} vs ${show(b)}: bytes ${bytes}, compare ${natural}`);
    }
    for (const [x, e] of [[a, ea], [b, eb]] as const) {
      const back = codec.decode(e);
      if (!same(back, x)) return t.fail(`${formatKeyType(type)}: ${show(x)} decoded as ${show(back)}`);
      if (!codec.encode(back).equals(e)) return t.fail(`${formatKeyType(type)}: ${show(x)} re-encodes differently`);
    }
  }
  t.pass();
}

const SCALARS: ScalarKeyType[] = ['int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'string', 'bytes'];

for (const [i, type] of SCALARS.entries()) {
  test(`${type}: byte order is natural order and decode inverts encode`, (t) => checkPairs(t, type, 1000 + i, 5000));
}

const TUPLES: KeyType[] = [
  { tuple: ['string', 'uint64'] },
  { tuple: ['bytes', 'bytes'] },
  { tuple: ['string', 'string', 'string'] },
  { tuple: ['int32', { tuple: ['string', 'bytes'] }, 'float64'] },
  { tuple: [{ tuple: ['bytes'] }, { tuple: ['string', { tuple: ['float32', 'int64'] }] }, 'uint32'] },
];

test('fixed tuple types: byte order is natural order and decode inverts encode', (t) => {
  TUPLES.forEach((type, i) => checkPairs(t, type, 2000 + i, 3000));
});

test('random tuple types: byte order is natural order and decode inverts encode', (t) => {
  const r = seeded(3000);
  for (let i = 0; i < 60; i++) checkPairs(t, randomType(r, 0), 3001 + i, 300);
});

test('tuple prefixes sort before their extensions and bound exactly their range', (t) => {
  const r = seeded(4000);
  for (const type of [...TUPLES, ...Array.from({ length: 30 }, () => randomType(r, 0))]) {
    if (isScalarKeyType(type)) continue;
    const codec = keyCodec(type);
    for (let i = 0; i < 500; i++) {
      const a = randomValue(r, type) as KeyValue[];
      const p = a.slice(0, below(r, a.length + 1));
      const x = randomNear(r, type, a);
      const ep = codec.encodePrefix(p);
      const ex = codec.encode(x);
      const extends_ = p.every((_, k) => codec.compare(p.slice(0, k + 1), (x as KeyValue[]).slice(0, k + 1)) === 0);
      const { gte, lt } = codec.prefixRange(p);
      const inRange = Buffer.compare(gte, ex) <= 0 && (lt === null || Buffer.compare(ex, lt) < 0);
      if (!gte.equals(ep) || Math.sign(Buffer.compare(ep, ex)) !== Math.sign(codec.compare(p, x))
        || (extends_ && !ex.subarray(0, ep.length).equals(ep)) || inRange !== extends_) {
        return t.fail(`${formatKeyType(type)}: prefix ${show(p)} vs ${show(x)}`);
      }
      if (p.length < a.length && codec.compare(p, a) >= 0) return t.fail(`${show(p)} not before ${show(a)}`);
    }
  }
  t.pass();
});

function assertStrictlyIncreasing(t: ExecutionContext, type: KeyType, values: KeyValue[]): void {
  const codec = keyCodec(type);
  for (let i = 1; i < values.length; i++) {
    const [a, b] = [values[i - 1]!, values[i]!];
    t.is(codec.compare(a, b), -1, `${show(a)} < ${show(b)}`);
    // Tuple lists here include prefixes, which only encodePrefix takes.
    const encode = (v: KeyValue): Buffer => (isScalarKeyType(type) ? codec.encode(v) : codec.encodePrefix(v as KeyValue[]));
    t.is(Buffer.compare(encode(a), encode(b)), -1, `bytes of ${show(a)} < ${show(b)}`);
  }
}

test('edge values are in their documented order', (t) => {
  assertStrictlyIncreasing(t, 'float64', [-Infinity, -Number.MAX_VALUE, -1, -MIN_NORMAL64, -Number.MIN_VALUE, -0, 0,
    Number.MIN_VALUE, MIN_NORMAL64, 1, Number.MAX_VALUE, Infinity]);
  assertStrictlyIncreasing(t, 'float32', [-Infinity, -FLOAT32_MAX, -1, -(2 ** -149), -0, 0, 2 ** -149, 1, FLOAT32_MAX, Infinity]);
  assertStrictlyIncreasing(t, 'int32', [-(2 ** 31), -1, 0, 1, 2 ** 31 - 1]);
  assertStrictlyIncreasing(t, 'uint32', [0, 1, 2 ** 31, 2 ** 32 - 1]);
  assertStrictlyIncreasing(t, 'int64', [-(1n << 63n), -1n, 0n, 1n, (1n << 63n) - 1n]);
  assertStrictlyIncreasing(t, 'uint64', [0n, 1n, 1n << 63n, (1n << 64n) - 1n]);
  // Code point order: the astral U+1F600 sorts after U+FFFF, although JS `<` says otherwise.
  assertStrictlyIncreasing(t, 'string', ['', '\u0000', '\u0000\u0000', 'a', 'a\u0000', 'ab', '\uffff', '\u{1f600}']);
  t.true('\u{1f600}' < '\uffff');
  assertStrictlyIncreasing(t, 'bytes', [new Uint8Array(), Uint8Array.of(0), Uint8Array.of(0, 0), Uint8Array.of(0, 0xff), Uint8Array.of(1), Uint8Array.of(0xff)]);
  assertStrictlyIncreasing(t, { tuple: ['string', 'bytes'] }, [[], ['a'], ['a', new Uint8Array()], ['a', Uint8Array.of(0)],
    ['a\u0000', new Uint8Array()], ['ab'], ['ab', Uint8Array.of(0xff)]]);
});

test('documented encodings, byte for byte', (t) => {
  const hex = (type: KeyType, value: KeyValue): string => keyCodec(type).encode(value).toString('hex');
  t.is(hex('int32', -1), '7fffffff');
  t.is(hex('int32', 0), '80000000');
  t.is(hex('uint32', 1), '00000001');
  t.is(hex('int64', -(1n << 63n)), '0000000000000000');
  t.is(hex('uint64', 258n), '0000000000000102');
  t.is(hex('float64', 0), '8000000000000000');
  t.is(hex('float64', -0), '7fffffffffffffff');
  t.is(hex('float32', 1), 'bf800000');
  t.is(hex('float32', -1), '407fffff');
  t.is(hex('string', 'é'), 'c3a9');
  t.is(hex('bytes', Uint8Array.of(0, 0xff)), '00ff');
  t.is(hex({ tuple: ['string', 'uint32'] }, ['a\u0000', 7]), '026100ff00' + '1100000007');
  t.is(hex({ tuple: [{ tuple: ['bytes'] }, 'int32'] }, [[Uint8Array.of(1)], 0]), '05' + '010100' + '00' + '1080000000');
  t.is(keyCodec({ tuple: ['string', 'uint32'] }).encodePrefix(['a']).toString('hex'), '026100');
});

test('float32 keys are rounded with Math.fround; integer -0 is 0; float -0 is kept', (t) => {
  const f32 = keyCodec('float32');
  t.is(f32.decode(f32.encode(0.1)), Math.fround(0.1));
  t.is(f32.compare(0.1, Math.fround(0.1)), 0);
  t.true(Object.is(f32.decode(f32.encode(-0)), -0));
  t.true(Object.is(keyCodec('float64').decode(keyCodec('float64').encode(-0)), -0));
  t.true(Object.is(keyCodec('int32').decode(keyCodec('int32').encode(-0)), 0));
  t.is(keyCodec('int32').compare(-0, 0), 0);
});

test('int64 and uint64 keys take safe-integer numbers: the bigint\'s bytes, decoded as bigints, in tuples too', (t) => {
  for (const [type, values] of [['int64', [0, -1, 42, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]], ['uint64', [0, 7, Number.MAX_SAFE_INTEGER]]] as const) {
    const codec = keyCodec(type);
    for (const n of values) {
      t.deepEqual(codec.encode(n), codec.encode(BigInt(n)), `${type} ${n}`);
      t.is(codec.decode(codec.encode(n)), BigInt(n));
      t.is(codec.compare(n, BigInt(n)), 0);
    }
  }
  t.deepEqual(keyCodec('int64').encode(-0), keyCodec('int64').encode(0n));
  const tuple = keyCodec({ tuple: ['string', 'int64'] });
  t.deepEqual(tuple.encode(['mu', 17]), tuple.encode(['mu', 17n]));
  t.deepEqual(tuple.decode(tuple.encode(['mu', 17])), ['mu', 17n]);
  t.deepEqual(tuple.encodePrefix(['mu', 3]), tuple.encodePrefix(['mu', 3n]));
  t.is(tuple.compare(['mu', 2], ['mu', 10n]), -1);
});

test('decode returns fresh values, not views of the encoded bytes', (t) => {
  const codec = keyCodec({ tuple: ['bytes'] });
  const encoded = codec.encode([Uint8Array.of(5)]);
  const [bytes] = codec.decode(encoded) as [Uint8Array];
  encoded.fill(0);
  t.deepEqual(Array.from(bytes), [5]);
  const input = Uint8Array.of(9);
  const top = keyCodec('bytes').encode(input);
  input[0] = 1;
  t.is(top[0], 9);
});

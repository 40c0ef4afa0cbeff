import test from 'ava';
import { xxhash64, xxhash64BigInt } from '../../../partition/xxhash64.js';
import { seededRandom } from './random.js';

const MASK64 = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n;
const P5 = 0x27d4eb2f165667c5n;

/**
 * XXH64 transcribed directly from the specification (xxHash doc/xxhash_spec.md) with BigInt, so it
 * shares nothing with the 32-bit-halves implementation under test except the algorithm.
 */
function referenceXxh64(input: Uint8Array, seed: number): bigint {
  const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & MASK64;
  const round = (acc: bigint, lane: bigint): bigint => (rotl((acc + lane * P2) & MASK64, 31n) * P1) & MASK64;
  const merge = (acc: bigint, v: bigint): bigint => (((acc ^ round(0n, v)) * P1) + P4) & MASK64;
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const s = BigInt(seed);
  const len = input.length;
  let i = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = (s + P1 + P2) & MASK64, v2 = (s + P2) & MASK64, v3 = s, v4 = (s - P1) & MASK64;
    for (; i + 32 <= len; i += 32) {
      v1 = round(v1, view.getBigUint64(i, true));
      v2 = round(v2, view.getBigUint64(i + 8, true));
      v3 = round(v3, view.getBigUint64(i + 16, true));
      v4 = round(v4, view.getBigUint64(i + 24, true));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & MASK64;
    h = merge(merge(merge(merge(h, v1), v2), v3), v4);
  } else {
    h = (s + P5) & MASK64;
  }
  h = (h + BigInt(len)) & MASK64;
  for (; i + 8 <= len; i += 8) h = ((rotl(h ^ round(0n, view.getBigUint64(i, true)), 27n) * P1) + P4) & MASK64;
  for (; i + 4 <= len; i += 4) h = ((rotl(h ^ ((BigInt(view.getUint32(i, true)) * P1) & MASK64), 23n) * P2) + P3) & MASK64;
  for (; i < len; i++) h = (rotl(h ^ ((BigInt(view.getUint8(i)) * P5) & MASK64), 11n) * P1) & MASK64;
  h ^= h >> 33n;
  h = (h * P2) & MASK64;
  h ^= h >> 29n;
  h = (h * P3) & MASK64;
  h ^= h >> 32n;
  return h;
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

// Every expected digest below was also checked against the C library (libxxhash 0.8.3, through
// python-xxhash), so these tests pin the real XXH64, not just agreement with our own reference.
test('matches the published xxh64 vectors for short strings', (t) => {
  t.is(xxhash64BigInt(text(''), 0), 0xef46db3751d8e999n);
  t.is(xxhash64BigInt(text('a'), 0), 0xd24ec4f1a98c6e5bn);
  t.is(xxhash64BigInt(text('abc'), 0), 0x44bc2cf5ad770999n);
  t.is(xxhash64BigInt(text('message digest'), 0), 0x066ed728fceeb3ben);
  t.is(xxhash64BigInt(text('The quick brown fox jumps over the lazy dog'), 0), 0x0b242d361fda71bcn);
  t.is(xxhash64BigInt(text('abc'), 1), 0xbea9ca8199328908n);
});

test('matches xxHash\'s own sanity-check vectors (its generated buffer, seeds 0 and PRIME32_1)', (t) => {
  // xxHash's self-test buffer: byte i is the top byte of PRIME32_1 * PRIME64_1^i (mod 2^64). The
  // lengths reach the 1-byte, 4-byte, 8-byte and 32-byte-stripe paths and many stripes.
  const buffer = new Uint8Array(2367);
  let generator = 2654435761n;
  for (let i = 0; i < buffer.length; i++) {
    buffer[i] = Number(generator >> 56n);
    generator = (generator * 11400714785074694797n) & MASK64;
  }
  const prime = 0x9e3779b1;
  const vectors: Array<[number, number, bigint]> = [
    [0, 0, 0xef46db3751d8e999n], [0, prime, 0xac75fda2929b17efn],
    [1, 0, 0xe934a84adb052768n], [1, prime, 0x5014607643a9b4c3n],
    [4, 0, 0x9136a0dca57457een], [4, prime, 0xcaab286bd8e9fdb5n],
    [14, 0, 0x8282dcc4994e35c8n], [14, prime, 0xc3bd6bf63deb6df0n],
    [222, 0, 0xb641ae8cb691c174n], [222, prime, 0x20cb8ab7ae10c14an],
    [2367, 0, 0xa82418ddec0ea581n], [2367, prime, 0xa36a93c18052673an],
  ];
  for (const [length, seed, expected] of vectors) {
    t.is(xxhash64BigInt(buffer.subarray(0, length), seed), expected, `length ${length}, seed ${seed}`);
  }
});

test('agrees with a BigInt reference on random inputs of every tail shape', (t) => {
  // Lengths 0..100 cover no stripe and one to three 32-byte stripes, each followed by every
  // combination of 8-byte lanes, a 4-byte word and 0..3 single bytes.
  const random = seededRandom(0x5eed);
  let checked = 0;
  for (let round = 0; round < 40; round++) {
    for (let length = 0; length <= 100; length++) {
      const input = random.bytes(length);
      const seed = round === 0 ? 0 : round === 1 ? 0xffff_ffff : random.uint32();
      const expected = referenceXxh64(input, seed);
      if (xxhash64BigInt(input, seed) !== expected) {
        t.fail(`length ${length}, seed ${seed}: ${xxhash64BigInt(input, seed).toString(16)} != ${expected.toString(16)}`);
        return;
      }
      checked++;
    }
  }
  t.is(checked, 40 * 101);
});

test('reads views at any byte offset and writes at the given offset', (t) => {
  const random = seededRandom(7);
  const backing = random.bytes(300);
  const out = new Uint32Array(6);
  for (const [start, end] of [[1, 17], [3, 70], [5, 299], [0, 0]] as const) {
    const view = backing.subarray(start, end);
    const copy = view.slice();
    xxhash64(view, 42, out, 3);
    t.is((BigInt(out[3]!) << 32n) | BigInt(out[4]!), referenceXxh64(copy, 42));
  }
  t.is(out[0], 0);
  t.is(out[5], 0);
});

test('rejects bad arguments', (t) => {
  const out = new Uint32Array(2);
  t.throws(() => xxhash64(text('a'), -1, out), { instanceOf: TypeError });
  t.throws(() => xxhash64(text('a'), 2 ** 32, out), { instanceOf: TypeError });
  t.throws(() => xxhash64(text('a'), 1.5, out), { instanceOf: TypeError });
  t.throws(() => xxhash64(text('a'), 0, out, 1), { instanceOf: TypeError });
  t.throws(() => xxhash64(text('a'), 0, new Uint32Array(1)), { instanceOf: TypeError });
  t.throws(() => xxhash64('a' as unknown as Uint8Array, 0, out), { instanceOf: TypeError });
});

import test from 'ava';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import { keyCodec } from '../../../core/keys/key-codec.js';
import { bytePrefixRange, keyInputEncoder, toBytes } from '../../../core/keys/key-input.js';

/** Keys as callers give them, encoded as the store holds them (core/keys/key-input.ts). */

const hex = (bytes: Uint8Array | undefined): string | undefined => (bytes === undefined ? undefined : Buffer.from(bytes).toString('hex'));

test('a bytes store takes bytes, or a string as its UTF-8 bytes, and nothing else (TypeError)', (t) => {
  const keys = keyInputEncoder('bytes');
  t.is(hex(keys.key('é')), 'c3a9');
  t.is(hex(keys.key(Uint8Array.of(1, 2))), '0102');
  t.throws(() => keys.key(7), { instanceOf: TypeError, message: 'key must be a Uint8Array or a string, got number' });
  t.throws(() => toBytes(['a'], 'pair 3: the key'), { instanceOf: TypeError, message: 'pair 3: the key must be a Uint8Array or a string, got array' });
  t.true(Buffer.isBuffer(keys.decode(Uint8Array.of(5))), 'keys of a bytes store come back as Buffers');
});

test('a typed store encodes with its codec; its text form is canonical', (t) => {
  const keys = keyInputEncoder('tuple( string , int64 )');
  t.is(keys.keyType, 'tuple(string,int64)');
  const codec = keyCodec({ tuple: ['string', 'int64'] });
  t.deepEqual(keys.key(['mu', 3]), codec.encode(['mu', 3n]));
  t.deepEqual(keys.decode(codec.encode(['mu', 3n])), ['mu', 3n]);
  t.is(t.throws(() => keyInputEncoder('int65'), { instanceOf: HpckvError })?.code, ErrorCodes.BAD_CONFIG);
});

test('a tuple bound with fewer components is the block of keys extending it; a complete one is its key', (t) => {
  const keys = keyInputEncoder('tuple(string,int64)');
  const codec = keyCodec({ tuple: ['string', 'int64'] });
  t.deepEqual(keys.bound(['mu', 1n]), codec.encode(['mu', 1n]));
  const block = keys.bound(['mu']);
  t.false(block instanceof Uint8Array);
  t.deepEqual(block, { first: codec.encodePrefix(['mu']), end: Buffer.concat([codec.encodePrefix(['mu']), Buffer.of(0xff)]) });
  const { first, end } = block as { first: Buffer; end: Buffer };
  for (const key of [['mu', -(2n ** 63n)], ['mu', 0n], ['mu', 2n ** 63n - 1n]]) {
    const bytes = codec.encode(key);
    t.true(Buffer.compare(first, bytes) <= 0 && Buffer.compare(bytes, end) < 0, `["mu", ${String(key[1])}] is in the block`);
  }
  for (const key of [['m', 5n], ['mu\u0000', 0n], ['mua', 0n], ['nu', 0n]]) {
    const bytes = codec.encode(key);
    t.false(Buffer.compare(first, bytes) <= 0 && Buffer.compare(bytes, end) < 0, `["${String(key[0])}", ...] is not`);
  }
  const empty = t.throws(() => keys.bound([]), { instanceOf: HpckvError });
  t.is(empty?.code, ErrorCodes.BAD_KEY);
  t.is(empty?.details['reason'], 'wrong arity');
  t.deepEqual(keyInputEncoder('string').bound('mu'), Buffer.from('mu'), 'a scalar bound is its key');
});

test('prefix ranges: tuple components, the leading bytes of bytes keys, the leading characters of string keys', (t) => {
  const tuple = keyInputEncoder('tuple(string,int64)');
  const codec = keyCodec({ tuple: ['string', 'int64'] });
  t.deepEqual(tuple.prefixRange(['mu']), { gte: codec.encodePrefix(['mu']), lt: Buffer.concat([codec.encodePrefix(['mu']), Buffer.of(0xff)]) });
  t.deepEqual(tuple.prefixRange([]), {}, 'no components: every key');
  t.is(t.throws(() => tuple.prefixRange('mu'), { instanceOf: HpckvError })?.code, ErrorCodes.BAD_KEY);
  const { gte, lt } = keyInputEncoder('bytes').prefixRange('ab');
  t.deepEqual([hex(gte), hex(lt)], ['6162', '6163']);
  t.deepEqual(keyInputEncoder('string').prefixRange('é'), { gte: Buffer.from('c3a9', 'hex'), lt: Buffer.from('c3aa', 'hex') });
  t.is(t.throws(() => keyInputEncoder('string').prefixRange('\ud800'), { instanceOf: HpckvError })?.code, ErrorCodes.BAD_KEY);
  t.throws(() => keyInputEncoder('int64').prefixRange(5n), { instanceOf: TypeError, message: 'a prefix range needs tuple, string or bytes keys, not int64' });
});

test('bytePrefixRange ends before the first byte string that does not start with the prefix', (t) => {
  const range = (h: string): [string | undefined, string | undefined] => {
    const r = bytePrefixRange(Buffer.from(h, 'hex'));
    return [hex(r.gte), hex(r.lt)];
  };
  t.deepEqual(range('0a'), ['0a', '0b']);
  t.deepEqual(range('0aff'), ['0aff', '0b'], 'trailing 0xFF bytes are dropped, the byte before raised');
  t.deepEqual(range('00ffff'), ['00ffff', '01']);
  t.deepEqual(range('ffff'), ['ffff', undefined], 'only 0xFF bytes: to the end');
  t.deepEqual(range(''), [undefined, undefined], 'the empty prefix: every key');
  const prefix = Buffer.from('61ff', 'hex');
  bytePrefixRange(prefix);
  t.is(prefix.toString('hex'), '61ff', 'the prefix itself is not changed');
});

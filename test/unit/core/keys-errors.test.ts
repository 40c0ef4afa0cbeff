import test, { type ExecutionContext } from 'ava';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import { keyCodec } from '../../../core/keys/key-codec.js';
import type { KeyType, KeyValue } from '../../../core/keys/key-type.js';

function throwsBadKey(t: ExecutionContext, fn: () => unknown, details: Record<string, string>, label: string): void {
  const error = t.throws(fn, { instanceOf: HpckvError }, label);
  t.is(error?.code, ErrorCodes.BAD_KEY, label);
  t.false(error?.retryable, label);
  t.like(error?.details, details, label);
}

test('values of the wrong JS type are BAD_KEY with {expected, got}', (t) => {
  const cases: Array<[KeyType, unknown, string]> = [
    ['int32', 1n, 'bigint'],
    ['uint32', '1', 'string'],
    ['int64', '1', 'string'],
    ['uint64', true, 'boolean'],
    ['float64', 1n, 'bigint'],
    ['float32', null, 'null'],
    ['string', Uint8Array.of(1), 'Uint8Array'],
    ['bytes', 'abc', 'string'],
    ['bytes', [1, 2], 'array'],
    [{ tuple: ['string'] }, 'a', 'string'],
    ['string', undefined, 'undefined'],
  ];
  for (const [type, value, got] of cases) {
    const codec = keyCodec(type);
    const expected = typeof type === 'string' ? type : 'tuple(string)';
    throwsBadKey(t, () => codec.encode(value as KeyValue), { reason: 'wrong type', expected, got }, `${expected} ${got}`);
    throwsBadKey(t, () => codec.compare(value as KeyValue, value as KeyValue), { expected, got }, `compare ${expected} ${got}`);
  }
});

test('values that cannot be encoded are BAD_KEY with a reason', (t) => {
  const cases: Array<[KeyType, KeyValue, string]> = [
    ['int32', 2 ** 31, 'out of range'],
    ['int32', -(2 ** 31) - 1, 'out of range'],
    ['int32', 1.5, 'not an integer'],
    ['int32', Infinity, 'not an integer'],
    ['int32', NaN, 'NaN'],
    ['uint32', -1, 'out of range'],
    ['uint32', 2 ** 32, 'out of range'],
    ['int64', 1n << 63n, 'out of range'],
    ['int64', -(1n << 63n) - 1n, 'out of range'],
    ['uint64', -1n, 'out of range'],
    ['uint64', 1n << 64n, 'out of range'],
    ['int64', 2 ** 53, 'out of range'],
    ['int64', -(2 ** 53), 'out of range'],
    ['int64', 1.5, 'not an integer'],
    ['int64', NaN, 'NaN'],
    ['uint64', -1, 'out of range'],
    ['uint64', Infinity, 'not an integer'],
    ['float64', NaN, 'NaN'],
    ['float32', NaN, 'NaN'],
    ['float32', 1e39, 'out of range'],
    ['float32', -Number.MAX_VALUE, 'out of range'],
    ['string', 'a\ud800', 'lone surrogate'],
    ['string', '\udc00b', 'lone surrogate'],
    ['string', '\ude00\ud83d', 'lone surrogate'],
  ];
  for (const [type, value, reason] of cases) {
    throwsBadKey(t, () => keyCodec(type).encode(value), { reason, expected: type as string }, `${String(type)} ${String(value)}`);
  }
});

test('tuple errors name the component and check arity', (t) => {
  const codec = keyCodec({ tuple: ['string', { tuple: ['int32', 'bytes'] }] });
  throwsBadKey(t, () => codec.encode(['a', [1, 'x']]), { reason: 'wrong type', expected: 'bytes', got: 'string', component: '1.1' }, 'nested');
  throwsBadKey(t, () => codec.encode(['a', [NaN, new Uint8Array()]]), { reason: 'NaN', component: '1.0' }, 'nested NaN');
  throwsBadKey(t, () => codec.encode(['a']), { reason: 'wrong arity' }, 'short key');
  throwsBadKey(t, () => codec.encode(['a', [1, new Uint8Array()], 'extra']), { reason: 'wrong arity' }, 'long key');
  throwsBadKey(t, () => codec.encode(['a', [1]]), { reason: 'wrong arity', component: '1' }, 'short nested');
  throwsBadKey(t, () => codec.encodePrefix(['a', [1]]), { reason: 'wrong arity', component: '1' }, 'nested prefix');
  throwsBadKey(t, () => codec.encodePrefix(['a', [1, new Uint8Array()], 'extra']), { reason: 'wrong arity' }, 'long prefix');
  throwsBadKey(t, () => codec.encodePrefix([1]), { reason: 'wrong type', expected: 'string', got: 'number', component: '0' }, 'prefix type');
  throwsBadKey(t, () => codec.compare(['a'], ['a', [1]]), { reason: 'wrong arity' }, 'compare');
  throwsBadKey(t, () => keyCodec('int32').encodePrefix([1, 2]), { reason: 'wrong arity' }, 'scalar prefix');
});

test('malformed bytes are BAD_KEY', (t) => {
  const nanBits = Buffer.from('fff8000000000000', 'hex'); // +NaN with the sign bit set, as encode would write it
  const cases: Array<[KeyType, Uint8Array]> = [
    ['int32', Uint8Array.of(1, 2, 3)],
    ['int32', Uint8Array.of(1, 2, 3, 4, 5)],
    ['uint64', new Uint8Array(7)],
    ['float64', nanBits],
    ['float64', Buffer.from('0007ffffffffffff', 'hex')], // -NaN, inverted
    ['float32', Buffer.from('ffc00000', 'hex')],
    ['string', Uint8Array.of(0xff)],
    ['string', Uint8Array.of(0xc0, 0x80)], // overlong NUL
    ['string', Uint8Array.of(0xed, 0xa0, 0x80)], // an encoded surrogate
    ['string', Uint8Array.of(0xe2, 0x82)], // truncated
    [{ tuple: ['string'] }, Uint8Array.of(0x02, 0x61)], // no terminator
    [{ tuple: ['string'] }, Uint8Array.of(0x02, 0x61, 0x00, 0x00)], // trailing byte
    [{ tuple: ['string'] }, Uint8Array.of(0x01, 0x61, 0x00)], // bytes tag where a string belongs
    [{ tuple: ['string'] }, Uint8Array.of(0x02, 0xff, 0x00)], // not UTF-8 inside
    [{ tuple: ['string'] }, new Uint8Array()],
    [{ tuple: ['int32', 'int32'] }, Uint8Array.of(0x10, 0x80, 0, 0, 0, 0x10, 0x80)], // truncated component
    [{ tuple: [{ tuple: ['bytes'] }] }, Uint8Array.of(0x05, 0x01, 0x61, 0x00)], // nested tuple not terminated
    [{ tuple: [{ tuple: ['bytes'] }] }, Uint8Array.of(0x05, 0x01, 0x61, 0x00, 0x01)],
  ];
  for (const [type, bytes] of cases) {
    throwsBadKey(t, () => keyCodec(type).decode(bytes), { reason: 'malformed encoding' }, `${JSON.stringify(type)} ${Buffer.from(bytes).toString('hex')}`);
  }
  throwsBadKey(t, () => keyCodec('bytes').decode('ab' as unknown as Uint8Array), { reason: 'wrong type', got: 'string' }, 'not bytes');
});

test('scalar prefix ranges are everything or exactly one key', (t) => {
  const codec = keyCodec('bytes');
  t.deepEqual(codec.prefixRange([]), { gte: Buffer.alloc(0), lt: null });
  const { gte, lt } = codec.prefixRange([Uint8Array.of(0x61)]);
  t.is(gte.toString('hex'), '61');
  t.is(lt?.toString('hex'), '6100');
  // The range of ("a") must not hold ("a\0", ...), whose encoding also starts with that of ("a").
  const tuple = keyCodec({ tuple: ['string', 'uint32'] });
  const range = tuple.prefixRange(['a']);
  t.is(Buffer.compare(tuple.encode(['a\u0000', 1]), range.lt!), 1);
  t.is(Buffer.compare(tuple.encode(['a', 2 ** 32 - 1]), range.lt!), -1);
});

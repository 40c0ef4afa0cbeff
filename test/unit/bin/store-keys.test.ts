// The CLI's keys, in process: every key type's argument form encodes to the store's bytes and
// prints back in the same form (so a printed key can be typed again), exactly for 64-bit
// integers; prefixes bound exactly the keys that start with them; bad arguments are typed errors.
import test from 'ava';
import { JsonNumber, parseJsonExact } from '../../../bin/cli-json.js';
import { printableBytes } from '../../../bin/printable.js';
import { StoreKeys } from '../../../bin/store-keys.js';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import { keyCodec } from '../../../core/keys/key-codec.js';
import { parseKeyType, type KeyValue } from '../../../core/keys/key-type.js';

const ROUND_TRIPS: Array<[string, string, KeyValue]> = [
  ['int64', '-9223372036854775808', -9223372036854775808n],
  ['uint64', '18446744073709551615', 18446744073709551615n],
  ['int32', '-7', -7],
  ['float32', '0.5', 0.5],
  ['float64', '-0', -0],
  ['string', 'naïve ☃', 'naïve ☃'],
  ['bytes', 'plain', Buffer.from('plain')],
  ['tuple(string,uint64)', '["run",9007199254740993]', ['run', 9007199254740993n]],
  ['tuple(int32,tuple(string,bytes),float64)', '[-1,["a",{"base64":"/wA="}],"-Infinity"]', [-1, ['a', Buffer.from([0xff, 0])], -Infinity]],
];

for (const [type, text, value] of ROUND_TRIPS) {
  test(`a ${type} key: "${text}" encodes as the store's codec does and prints back the same way`, (t) => {
    const keys = new StoreKeys(type);
    const stored = keys.encode(text);
    t.deepEqual(stored, keyCodec(parseKeyType(type)).encode(value));
    t.deepEqual(keys.encode(keys.lineText(stored)), stored, 'the printed key reads back as the same key');
    t.deepEqual(keys.encodeJson(parseJsonExact(keys.jsonText(stored)), 'json'), stored, 'so does its JSON');
  });
}

test('JSON numbers keep their text: beyond 2^53 nothing is rounded', (t) => {
  t.deepEqual(parseJsonExact(' [9007199254740993, -1.5e3, "x", {"base64": "AA=="}, null] '),
    [new JsonNumber('9007199254740993'), new JsonNumber('-1.5e3'), 'x', { base64: 'AA==' }, null]);
  t.throws(() => parseJsonExact('[1,]'), { message: 'not JSON at offset 3: unexpected "]"' });
  t.throws(() => parseJsonExact('[1] 2'), { message: 'not JSON at offset 4: unexpected text after the value' });
});

test('--prefix: a byte prefix for string and bytes stores (the successor carries past 0xff), first components for tuples, none for numbers', (t) => {
  t.deepEqual(new StoreKeys('string').prefixRange('ab'), { gte: Buffer.from('ab'), lt: Buffer.from('ac') });
  t.deepEqual(new StoreKeys('bytes').prefixRange('a\u00ff'), { gte: Buffer.from('a\u00ff'), lt: Buffer.from([0x61, 0xc3, 0xc0]) });
  t.deepEqual(new StoreKeys('bytes').prefixRange(''), {});
  const tuples = new StoreKeys('tuple(string,int64)');
  const codec = keyCodec(parseKeyType('tuple(string,int64)'));
  const range = tuples.prefixRange('["run"]');
  const inside = codec.encode(['run', 5n]);
  t.true(Buffer.compare(range.gte!, inside) <= 0 && Buffer.compare(inside, range.lt!) < 0);
  t.true(Buffer.compare(codec.encode(['runner', 0n]), range.lt!) >= 0, 'a longer string is not inside');
  t.deepEqual(tuples.prefixRange('[]'), { lt: Buffer.from([0xff]) });
  t.throws(() => new StoreKeys('int64').prefixRange('1'), { instanceOf: HpckvError, message: /--prefix needs a string, bytes or tuple store/ });
});

test('a bad key argument is HPCKV_ERR_BAD_KEY naming the argument and what its type takes', (t) => {
  const bad = (type: string, text: string, what = 'key'): string => {
    const error = t.throws(() => new StoreKeys(type).encode(text, what), { instanceOf: HpckvError });
    t.is(error?.code, ErrorCodes.BAD_KEY);
    return error?.message ?? '';
  };
  t.is(bad('uint32', '1.5'), 'key "1.5": uint32 keys are written as decimal integers');
  t.is(bad('float64', 'NaN', '--gte'), '--gte "NaN": float64 keys are written as decimal numbers');
  t.regex(bad('int32', '4294967296'), /^key "4294967296" is not a key of type int32: /);
  t.is(bad('tuple(string,int64)', '["a","1"]'), 'key[1]: expected an integer (int64), got "1"');
  t.is(bad('tuple(string,int64)', '["a",1,2]'), 'key: a tuple(string,int64) key has 2 components, got 3');
  t.is(bad('tuple(string,int64)', 'run'), 'key "run": a tuple key is a JSON array: not JSON at offset 0: unexpected "r"');
});

test('printable: control characters, backslashes and bytes that are not UTF-8 are escaped, the rest kept', (t) => {
  t.is(printableBytes(Buffer.from('tab\there\nback\\slash é')), 'tab\\there\\nback\\\\slash é');
  t.is(printableBytes(Buffer.from([0x41, 0xff, 0x00, 0x5c, 0x7f])), 'A\\xff\\x00\\x5c\\x7f');
  t.is(printableBytes(Buffer.from('\ufeffbom')), '\ufeffbom', 'a byte order mark is kept, not eaten');
});

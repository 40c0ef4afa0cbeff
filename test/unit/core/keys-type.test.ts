import test from 'ava';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import { keyCodec } from '../../../core/keys/key-codec.js';
import { formatKeyType, parseKeyType, SCALAR_KEY_TYPES, type KeyType } from '../../../core/keys/key-type.js';

const CANONICAL = [
  ...SCALAR_KEY_TYPES,
  'tuple(int64)',
  'tuple(string,uint64)',
  'tuple(int32,tuple(string,bytes),float64)',
  'tuple(tuple(tuple(float32)),bytes)',
  'tuple(tuple(tuple(tuple(tuple(tuple(tuple(tuple(int32))))))))',
];

test('canonical key type texts round-trip exactly', (t) => {
  for (const text of CANONICAL) t.is(formatKeyType(parseKeyType(text)), text);
  t.deepEqual(parseKeyType('tuple(string,tuple(uint64,bytes))'), { tuple: ['string', { tuple: ['uint64', 'bytes'] }] });
});

test('types built in code round-trip through text', (t) => {
  const types: KeyType[] = ['bytes', { tuple: ['int32'] }, { tuple: [{ tuple: ['string', 'float32'] }, 'uint32'] }];
  for (const type of types) t.deepEqual(parseKeyType(formatKeyType(type)), type);
});

test('whitespace around tokens is accepted and formatted away', (t) => {
  t.is(formatKeyType(parseKeyType('  tuple( string ,\tuint64 )\n')), 'tuple(string,uint64)');
  t.is(formatKeyType(parseKeyType(' int32 ')), 'int32');
});

test('bad key type texts are BAD_CONFIG', (t) => {
  const bad = [
    '', ' ', 'int', 'Int32', 'INT32', 'int32 int32', 'string,', 'tuple', 'tuple()', 'tuple(', 'tuple(int32',
    'tuple(int32,)', 'tuple(,int32)', 'tuple(int32))', 'tuple int32', 'tuple[int32]', 'float', 'int128',
    'tuple(tuple(tuple(tuple(tuple(tuple(tuple(tuple(tuple(int32)))))))))', // depth 9
  ];
  for (const text of bad) {
    const error = t.throws(() => parseKeyType(text), { instanceOf: HpckvError }, text);
    t.is(error?.code, ErrorCodes.BAD_CONFIG, text);
  }
});

test('keyCodec refuses invalid key types built in code with BAD_CONFIG', (t) => {
  const bad: unknown[] = ['int', { tuple: [] }, { tuple: ['int32', 'nope'] }, {}, null, 7, { tuple: 'int32' }];
  for (const type of bad) {
    const error = t.throws(() => keyCodec(type as KeyType), { instanceOf: HpckvError });
    t.is(error?.code, ErrorCodes.BAD_CONFIG);
  }
});

import test from 'ava';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import { DEFAULT_PARTITION } from '../../../core/group-file.js';
import { keyCodec } from '../../../core/keys/key-codec.js';
import * as hpckv from '../../../index.js';
import { createPartitioner } from '../../../partition/partitioner.js';
import { placementOf, serverFor } from '../../../partition/placement.js';
import { rangePartition, rangePartitionFromSample } from '../../../partition/range-partition.js';
import { RangeTable } from '../../../partition/range-table.js';

/** Placement asked without servers (partition/placement.ts) and range specs from typed keys (partition/range-partition.ts). */

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

test('the public entry exports the partitioners, the placement and the range spec helpers', (t) => {
  t.is(hpckv.RangeTable, RangeTable);
  t.is(typeof hpckv.RangeTable.fromSample, 'function');
  t.is(hpckv.createPartitioner, createPartitioner);
  for (const name of ['HashRing', 'SlicePartitioner', 'serverFor', 'placementOf', 'rangePartition', 'rangePartitionFromSample', 'checkPartitionSpec'] as const) {
    t.is(typeof hpckv[name], 'function', name);
  }
});

test('rangePartition encodes typed split points: numbers and bigints for int64, strings, tuples and tuple prefixes', (t) => {
  const int64 = keyCodec('int64');
  t.deepEqual(rangePartition({ keyType: 'int64', splitPoints: [-5, 0n, 2n ** 40n], epoch: 3 }),
    { scheme: 'range', boundaries: [int64.encode(-5n), int64.encode(0n), int64.encode(2n ** 40n)].map(b64), epoch: 3 });
  t.deepEqual(rangePartition({ splitPoints: ['g', Buffer.from('p')] }).boundaries, [b64(Buffer.from('g')), b64(Buffer.from('p'))], 'a bytes store: strings as UTF-8');
  const tuple = keyCodec({ tuple: ['string', 'int64'] });
  t.deepEqual(rangePartition({ keyType: 'tuple(string,int64)', splitPoints: [['mu'], ['mu', 500], ['nu']] }).boundaries,
    [tuple.encodePrefix(['mu']), tuple.encode(['mu', 500n]), tuple.encodePrefix(['nu'])].map(b64));
  t.deepEqual(rangePartition({ keyType: 'string', splitPoints: [] }), { scheme: 'range', boundaries: [], epoch: 0 }, 'one server');
  t.notThrows(() => JSON.stringify(rangePartition({ keyType: 'uint64', splitPoints: [2n ** 63n] })), 'the spec is plain JSON');
});

test('bad split points: BAD_KEY naming the split point, BAD_CONFIG when not increasing or empty', (t) => {
  const badKey = t.throws(() => rangePartition({ keyType: 'int64', splitPoints: [1, 'two'] }), { instanceOf: HpckvError });
  t.is(badKey?.code, ErrorCodes.BAD_KEY);
  t.is(badKey?.details['splitPoint'], 1);
  t.regex(badKey?.message ?? '', /^split point 1: /);
  const unsafe = t.throws(() => rangePartition({ keyType: 'int64', splitPoints: [2 ** 60] }), { instanceOf: HpckvError });
  t.is(unsafe?.details['reason'], 'out of range');
  const order = t.throws(() => rangePartition({ keyType: 'tuple(string,int64)', splitPoints: [['nu'], ['mu', 3]] }), { instanceOf: HpckvError });
  t.is(order?.code, ErrorCodes.BAD_CONFIG);
  t.is(order?.message, 'rangePartition: split points must increase in key order; split point 1 is not after split point 0');
  const empty = t.throws(() => rangePartition({ splitPoints: [''] }), { instanceOf: HpckvError });
  t.is(empty?.code, ErrorCodes.BAD_CONFIG);
  t.regex(empty?.message ?? '', /boundary 0 is empty/);
  t.throws(() => rangePartition({ splitPoints: 'g' as never }), { instanceOf: TypeError });
});

test('rangePartitionFromSample: the quantiles of a typed sample; a sample too small is BAD_CONFIG', (t) => {
  const sample = Array.from({ length: 90 }, (_, i) => ['run', (i * 7) % 90] as const);
  const spec = rangePartitionFromSample({ keyType: 'tuple(string,int64)', sample, servers: 3 });
  const tuple = keyCodec({ tuple: ['string', 'int64'] });
  t.deepEqual(spec, { scheme: 'range', boundaries: [tuple.encode(['run', 30n]), tuple.encode(['run', 60n])].map(b64), epoch: 0 });
  const place = placementOf(spec, 3, 'tuple(string,int64)');
  const shares = [0, 0, 0];
  for (const key of sample) shares[place(key)]!++;
  t.deepEqual(shares, [30, 30, 30]);
  const small = t.throws(() => rangePartitionFromSample({ keyType: 'int32', sample: [1, 1, 2], servers: 3 }), { instanceOf: HpckvError });
  t.is(small?.code, ErrorCodes.BAD_CONFIG);
  t.regex(small?.message ?? '', /3 servers need a sample of at least 3 distinct keys, got 2/);
  t.throws(() => rangePartitionFromSample({ sample: [], servers: 0 }), { instanceOf: RangeError });
});

test('serverFor answers as the partitioner does on the client\'s encoding of the key, for every scheme', (t) => {
  const ring = createPartitioner(DEFAULT_PARTITION, 5);
  for (const key of ['a', 'state-17', 'é']) t.is(serverFor(DEFAULT_PARTITION, 5, key), ring.serverFor(Buffer.from(key)), key);
  const slices = { scheme: 'slices' as const, sliceSize: 10, keyType: 'int64' };
  t.deepEqual([5, 15, 25, 35].map((key) => serverFor(slices, 3, key, 'int64')), [0, 1, 2, 0]);
  const range = rangePartition({ keyType: 'float64', splitPoints: [0, 100] });
  t.deepEqual([-1, -0, 0, 99.5, 100, Infinity].map((key) => serverFor(range, 3, key, 'float64')), [0, 0, 1, 1, 2, 2]);
  const error = t.throws(() => serverFor({ scheme: 'range', boundaries: ['AA=='], epoch: 0 }, 3, 'k'), { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.BAD_CONFIG);
  t.is(t.throws(() => serverFor(range, 3, 'not a float', 'float64'), { instanceOf: HpckvError })?.code, ErrorCodes.BAD_KEY);
});

import test from 'ava';
import { encodeBounds, encodePrefix, serversInOrder, serversOfRange } from '../../../client/core/range-routing.js';
import { DEFAULT_PARTITION } from '../../../core/group-file.js';
import { createPartitioner } from '../../../partition/partitioner.js';
import { RangeTable } from '../../../partition/range-table.js';

const b = (text: string): Buffer => Buffer.from(text);

test('bounds are encoded one by one; two bounds on one side are refused before any is encoded', (t) => {
  const encoded: string[] = [];
  const encode = (key: string): Uint8Array => { encoded.push(key); return b(key); };
  t.deepEqual(encodeBounds({ gte: 'a', lt: 'm' }, encode), { gte: b('a'), lt: b('m') });
  t.deepEqual(encodeBounds({}, encode), {});
  encoded.length = 0;
  t.throws(() => encodeBounds({ gt: 'a', gte: 'b' }, encode), { instanceOf: TypeError, message: 'a range takes gt or gte, not both' });
  t.throws(() => encodeBounds({ lt: 'a', lte: 'b' }, encode), { instanceOf: TypeError, message: 'a range takes lt or lte, not both' });
  t.deepEqual(encoded, []);
});

test('a bound encoded as a block (a tuple prefix) bounds at its first key with gte and lt, after its last with gt and lte', (t) => {
  const block = (key: string): { first: Buffer; end: Buffer } => ({ first: b(key), end: b(`${key}~`) });
  t.deepEqual(encodeBounds({ gte: 'm', lte: 'm' }, block), { gte: b('m'), lt: b('m~') });
  t.deepEqual(encodeBounds({ gt: 'm', lt: 'p' }, block), { gte: b('m~'), lt: b('p') });
  t.deepEqual(encodeBounds({ gte: 'a', lt: 'm' }, (key) => (key === 'a' ? b('a') : block(key))), { gte: b('a'), lt: b('m') }, 'keys and blocks mix');
});

test('a prefix range is the prefix encoder\'s, and takes no other bound', (t) => {
  t.deepEqual(encodePrefix({ prefix: 'ab' }, (p) => ({ gte: b(p), lt: b('ac') })), { gte: b('ab'), lt: b('ac') });
  t.deepEqual(encodePrefix({ prefix: '' }, () => ({})), {}, 'an open range');
  t.throws(() => encodePrefix({ prefix: 'ab', lte: 'az' }, () => ({})), { instanceOf: TypeError, message: 'a range takes a prefix or gt/gte/lt/lte bounds, not both' });
});

test('a range table names the servers of a range in key order (reversed on request); a hash ring names none, so all are asked', (t) => {
  // Server 0: keys < "g"; 1: "g" <= key < "p"; 2: "p" and above.
  const table = new RangeTable([b('g'), b('p')]);
  t.deepEqual(serversInOrder(table, { gte: b('h'), lt: b('z') }), [1, 2]);
  t.deepEqual(serversInOrder(table, { gte: b('h'), lt: b('z') }, true), [2, 1]);
  t.deepEqual(serversInOrder(table, { lt: b('g') }), [0], 'an exclusive upper bound at a boundary stays on the server below');
  t.deepEqual(serversInOrder(table, { lte: b('g') }), [0, 1]);
  t.deepEqual(serversOfRange(table, {}), [0, 1, 2]);
  const ring = createPartitioner(DEFAULT_PARTITION, 3);
  t.is(serversInOrder(ring, { gte: b('h'), lt: b('z') }), undefined);
  t.deepEqual(serversOfRange(ring, { gte: b('h'), lt: b('z') }), [0, 1, 2]);
});

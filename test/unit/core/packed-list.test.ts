import test from 'ava';
import { ErrorCodes, HpckvError, type ErrorCode } from '../../../core/errors.js';
import { PackedListChunks, packList, unpackList } from '../../../core/wire/packed-list.js';

test('packed lists round-trip bytes, empty items and absent items', (t) => {
  const items = [Buffer.from('a'), Buffer.alloc(0), null, Buffer.alloc(5000, 7), Buffer.from([0, 255])];
  const out = unpackList(packList(items), 'x', 10);
  t.deepEqual(out.map((b) => (b === null ? null : b.toString('hex'))), items.map((b) => (b === null ? null : b.toString('hex'))));
  t.deepEqual(unpackList(packList([]), 'x', 0), []);
});

test('malformed packed lists are typed errors, checked before allocating', (t) => {
  const good = packList([Buffer.from('abc'), Buffer.from('de')]);
  const cases: Array<[unknown, ErrorCode]> = [
    ['not bytes', ErrorCodes.BAD_REQUEST],
    [Buffer.alloc(2), ErrorCodes.BAD_REQUEST],
    [good.subarray(0, good.length - 1), ErrorCodes.BAD_REQUEST],
    [Buffer.concat([good, Buffer.from([1])]), ErrorCodes.BAD_REQUEST],
    [Buffer.from([0xff, 0xff, 0xff, 0x7f]), ErrorCodes.BATCH_TOO_LARGE],
    [Buffer.from([2, 0, 0, 0, 1, 0, 0, 0]), ErrorCodes.BAD_REQUEST],
  ];
  for (const [input, code] of cases) {
    const error = t.throws(() => unpackList(input, 'packedKeys', 1000), { instanceOf: HpckvError });
    t.is(error?.code, code);
  }
});

test('more items than batchEntriesMax is BATCH_TOO_LARGE naming the limit; more than a reader expects (no limit) is a malformed list', (t) => {
  const three = packList([Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]);
  const tooMany = t.throws(() => unpackList(three, 'packedKeys', 2), { instanceOf: HpckvError });
  t.is(tooMany?.code, ErrorCodes.BATCH_TOO_LARGE);
  t.deepEqual(tooMany?.details, { limit: 'batchEntriesMax', field: 'packedKeys', entries: 3, max: 2 });
  const unexpected = t.throws(() => unpackList(three, 'getMany reply', 2, null), { instanceOf: HpckvError });
  t.is(unexpected?.code, ErrorCodes.BAD_REQUEST);
  t.is(unexpected?.message, 'packed list "getMany reply" is malformed: 3 items where at most 2 are expected');
  t.deepEqual(unexpected?.details, { field: 'getMany reply' });
  t.is(unpackList(three, 'getMany reply', 3, null).length, 3);
});

test('chunked packed lists hold the same bytes as packList: small items copied into one block per run, large ones their own chunk', (t) => {
  const large = Buffer.alloc(5000, 7);
  const items = [Buffer.from('a'), Buffer.alloc(0), null, Buffer.from('bc'), large, Buffer.from('d'), null, Buffer.alloc(3000, 1)];
  const chunked = new PackedListChunks(items);
  t.true(Buffer.concat(chunked.chunks).equals(packList(items)));
  t.is(chunked.byteLength, packList(items).length);
  // table | 'a' 'bc' | large | 'd' | 3000 bytes
  t.deepEqual(chunked.chunks.map((c) => c.length), [4 + 4 * items.length, 3, 5000, 1, 3000]);
  t.is(chunked.chunks[2], large); // written from the caller's buffer, not copied
  t.deepEqual(new PackedListChunks([]).chunks.map((c) => c.length), [4]);
});

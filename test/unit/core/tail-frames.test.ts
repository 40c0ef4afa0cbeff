import test from 'ava';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import { FrameDecoder } from '../../../core/wire/frame-codec.js';
import { decodeFramePayload, encodeFrameChunks, TAIL_BYTES_MIN } from '../../../core/wire/tail-frames.js';

function roundTrip(message: unknown): { chunks: number; decoded: unknown } {
  const chunks = encodeFrameChunks(message);
  const frames = new FrameDecoder(1 << 26).push(Buffer.concat(chunks));
  return { chunks: chunks.length, decoded: decodeFramePayload(frames[0]!) };
}

test('large byte strings travel as tails, written from the caller’s buffers, and come back in place', (t) => {
  const big = Buffer.alloc(TAIL_BYTES_MIN, 7);
  const bigger = Buffer.alloc(TAIL_BYTES_MIN * 3, 9);
  const body = { db: 'd', packedKeys: big, packedValues: bigger, small: Buffer.from('s'), n: 5 };
  const chunks = encodeFrameChunks([0, 1, 'putMany', body]);
  t.is(chunks.length, 3);
  t.is(chunks[1], big, 'the tail is the caller’s buffer, not a copy');
  t.is(chunks[2], bigger);
  const { decoded } = roundTrip([0, 1, 'putMany', body]);
  t.deepEqual(decoded, [0, 1, 'putMany', body]);
  t.deepEqual(body.packedKeys, big, 'the caller’s object is not changed');
  t.deepEqual(roundTrip([1, 2, { values: bigger }]).decoded, [1, 2, { values: bigger }]);
  t.is(roundTrip([1, 3, { values: Buffer.alloc(10) }]).chunks, 1, 'small messages stay one msgpack frame');
});

test('malformed tailed payloads are HPCKV_ERR_PROTOCOL', (t) => {
  const good = Buffer.concat(encodeFrameChunks([1, 2, { values: Buffer.alloc(TAIL_BYTES_MIN) }])).subarray(4);
  for (const bad of [Buffer.from([0xc1]), Buffer.from([0xc1, 0, 0]), good.subarray(0, good.length - 1),
    Buffer.concat([good, Buffer.from([0])]), Buffer.from([0xc1, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])]) {
    const error = t.throws(() => decodeFramePayload(bad), { instanceOf: HpckvError });
    t.is(error?.code, ErrorCodes.PROTOCOL);
  }
});

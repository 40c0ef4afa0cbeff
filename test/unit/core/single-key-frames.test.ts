import test from 'ava';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import { FrameDecoder } from '../../../core/wire/frame-codec.js';
import { encodeMessage } from '../../../core/wire/message-codec.js';
import { decodeFramePayload, encodeFrameChunks } from '../../../core/wire/tail-frames.js';

function payloadOf(chunks: Buffer[]): Buffer {
  return new FrameDecoder(1 << 26).push(Buffer.concat(chunks))[0]!;
}

const key = Buffer.from([0, 1, 2, 255]);
const value = Buffer.alloc(4096, 7);

test('single-key requests and plain replies decode to exactly the message msgpack carries', (t) => {
  const messages: unknown[] = [
    [0, 1, 'get', { db: 'default', key }],
    [0, 0xffff_ffff, 'put', { db: 'kv', key, value }],
    [0, 3, 'put', { db: 'kv', key, value: Buffer.alloc(0), sync: true }],
    [0, 4, 'put', { db: 'd', key, value, sync: false }],
    [0, 5, 'del', { db: 'dé', key: Buffer.alloc(0), sync: true }],
    [0, 6, 'exists', { db: 'x'.repeat(255), key: Buffer.alloc(0xffff, 1) }],
    [0, 12, 'put', { db: 'kv', key: Buffer.alloc(3000, 2), value: Buffer.alloc(10, 3) }],
    [0, 13, 'putIfAbsent', { db: 'kv', key, value: Buffer.alloc(100, 4), sync: true }],
    [0, 14, 'append', { db: 'kv', key, value }],
    [0, 15, 'length', { db: 'kv', key }],
    [1, 7, null], [1, 8, true], [1, 9, false], [1, 10, value], [1, 11, Buffer.alloc(0)],
  ];
  for (const message of messages) {
    const chunks = encodeFrameChunks(message);
    const payload = payloadOf(chunks);
    t.deepEqual(payload.subarray(0, 3), Buffer.from([0xc1, 0, 0]), JSON.stringify(message).slice(0, 60));
    const viaMsgpack = decodeFramePayload(encodeMessage(message));
    t.deepEqual(decodeFramePayload(payload), viaMsgpack);
  }
  // A large value travels from the caller's buffer, not a copy; a short key and value go in one head.
  t.is(encodeFrameChunks([0, 2, 'put', { db: 'kv', key, value }]).at(-1), value);
  t.is(encodeFrameChunks([1, 2, value]).at(-1), value);
  t.is(encodeFrameChunks([0, 2, 'put', { db: 'kv', key, value: Buffer.alloc(64) }]).length, 1);
  t.is(encodeFrameChunks([1, 2, Buffer.alloc(64)]).length, 1);
});

test('messages of any other shape travel as msgpack', (t) => {
  const others: unknown[] = [
    [0, 1, 'getMany', { db: 'd', keys: [key] }],
    [0, 1, 'put', { db: 'd', key, value, extra: 1 }],
    [0, 1, 'put', { db: 'd', key: 'text' }],
    [0, 1, 'put', { db: 5, key }],
    [0, 1, 'get', { db: 'x'.repeat(256), key }],
    [0, 1, 'get', { db: 'd', key: Buffer.alloc(0x10000) }],
    [0, 1, 'put', { db: 'd', key, sync: 'yes' }],
    [0, -1, 'get', { db: 'd', key }],
    [0, 1.5, 'get', { db: 'd', key }],
    [1, 1, 5], [1, 1, { a: 1 }], [2, 1, { code: 'X' }], { not: 'an envelope' },
  ];
  for (const message of others) {
    const payload = payloadOf(encodeFrameChunks(message));
    t.false(payload[0] === 0xc1 && payload[1] === 0 && payload[2] === 0, JSON.stringify(message).slice(0, 60));
    t.deepEqual(decodeFramePayload(payload), decodeFramePayload(encodeMessage(message)));
  }
});

test('malformed single-key payloads are HPCKV_ERR_PROTOCOL', (t) => {
  const request = payloadOf(encodeFrameChunks([0, 1, 'get', { db: 'default', key }]));
  const mark = [0xc1, 0, 0];
  const bad = [
    Buffer.from([...mark, 2, 0, 0]), // too short for an id
    Buffer.from([...mark, 2, 0, 0, 0, 1, 9]), // null reply with trailing bytes
    Buffer.from([...mark, 4, 0, 0, 0, 1, 2]), // a boolean that is neither 0 nor 1
    Buffer.from([...mark, 9, 0, 0, 0, 1]), // unknown kind
    Buffer.from([...mark, 1, 0, 0, 0, 1, 77, 0, 0, 0, 0]), // unknown op code
    Buffer.from([...mark, 1, 0, 0, 0, 1, 0, 4, 0, 0, 0]), // sync true without has-sync
    Buffer.from([...mark, 1, 0, 0, 0, 1, 0, 0, 9, 0x61]), // db runs past the end
    request.subarray(0, request.length - 1), // key runs past the end
    Buffer.concat([request, Buffer.from([1])]), // trailing bytes after a get's key
  ];
  for (const payload of bad) {
    const error = t.throws(() => decodeFramePayload(payload), { instanceOf: HpckvError }, payload.toString('hex'));
    t.is(error?.code, ErrorCodes.PROTOCOL);
  }
});

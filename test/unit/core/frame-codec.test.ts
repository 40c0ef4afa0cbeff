import test from 'ava';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import { encodeFrame, FrameDecoder } from '../../../core/wire/frame-codec.js';
import { decodeMessage, encodeFramedMessage } from '../../../core/wire/message-codec.js';

test('frames survive any cut of the byte stream', (t) => {
  const payloads = [Buffer.alloc(0), Buffer.from('a'), Buffer.alloc(70_000, 3), Buffer.from('hello world')];
  const stream = Buffer.concat(payloads.map((p) => encodeFrame(p)));
  for (const cut of [1, 2, 3, 5, 7, 4096, 65_536, stream.length]) {
    const decoder = new FrameDecoder(1 << 20);
    const out: Buffer[] = [];
    for (let offset = 0; offset < stream.length; offset += cut) out.push(...decoder.push(stream.subarray(offset, offset + cut)));
    t.deepEqual(out.map((b) => b.toString('hex')), payloads.map((p) => p.toString('hex')), `cut ${cut}`);
    t.is(decoder.bufferedBytes, 0);
  }
});

test('with chunks that are views of one reused read buffer, every frame survives the buffer being overwritten', (t) => {
  const payloads = [Buffer.alloc(0), Buffer.from('a'), Buffer.alloc(70_000, 3), Buffer.from('hello world'), Buffer.alloc(300, 9), Buffer.from('end')];
  const stream = Buffer.concat(payloads.map((p) => encodeFrame(p)));
  for (const cut of [1, 3, 5, 4096, 65_536, stream.length]) {
    const decoder = new FrameDecoder(1 << 20, { chunksReused: true });
    const readBuffer = Buffer.alloc(Math.min(cut, stream.length));
    const out: Buffer[] = [];
    for (let offset = 0; offset < stream.length; offset += cut) {
      const bytes = stream.subarray(offset, offset + cut).copy(readBuffer);
      out.push(...decoder.push(readBuffer.subarray(0, bytes)));
      readBuffer.fill(0xee); // the next read lands here
    }
    t.deepEqual(out.map((b) => b.toString('hex')), payloads.map((p) => p.toString('hex')), `cut ${cut}`);
    t.is(decoder.bufferedBytes, 0);
  }
});

test('a length prefix above frameBytesMax is refused before any payload is buffered', (t) => {
  const decoder = new FrameDecoder(100);
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(101);
  const error = t.throws(() => decoder.push(prefix), { instanceOf: HpckvError });
  t.is(error?.code, ErrorCodes.FRAME_TOO_LARGE);
  t.is(error?.details['limit'], 'frameBytesMax');
});

test('messages keep bytes, bigints and nesting through a framed encoding', (t) => {
  const message = [0, 42, 'putMany', { db: 'd', keys: [Buffer.from([0, 255])], n: 2n ** 63n - 1n, nested: { ok: true } }];
  const frame = encodeFramedMessage(message);
  t.is(frame.readUInt32BE(0), frame.length - 4);
  const decoded = decodeMessage(frame.subarray(4)) as typeof message;
  t.deepEqual(Buffer.from((decoded[3] as { keys: Uint8Array[] }).keys[0]!), Buffer.from([0, 255]));
  t.is((decoded[3] as { n: bigint }).n, 2n ** 63n - 1n);
  t.deepEqual((decoded[3] as { nested: unknown }).nested, { ok: true });
  t.is(t.throws(() => decodeMessage(Buffer.from([0x92, 0x01])), { instanceOf: HpckvError })?.code, ErrorCodes.PROTOCOL);
});

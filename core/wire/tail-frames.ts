import { ErrorCodes, HpckvError } from '../errors.js';
import { decodeMessage, encodeFramedMessage, encodeMessage } from './message-codec.js';
import { asBuffer } from './as-buffer.js';
import { PackedListChunks } from './packed-list.js';
import { decodeSingleKeyPayload, encodeSingleKeyFrame, isSingleKeyPayload } from './single-key-frames.js';

/**
 * Large byte strings travel after the msgpack part of a frame instead of inside it, so they are
 * written straight from the caller's buffers (writev, no copy into msgpack's buffer) and read as
 * views of the received frame. A payload that starts with 0xc1 (a byte msgpack never uses) is
 *   0xc1 | u16 count | u32 size[count] | u32 headerBytes | msgpack header | tail 0 | tail 1 | ...
 * and the header holds `{ [TAIL_KEY]: i }` where tail i belongs. Only the envelope's elements and
 * their direct fields are moved, which is where bulk bodies and replies put their bytes. A
 * PackedListChunks always travels as a tail (it has no msgpack form), written chunk by chunk.
 */

const TAIL_MARK = 0xc1;
const TAIL_KEY = '\u0000tail';
/**
 * Byte strings at least this long travel as tails; shorter ones are cheaper inside msgpack. It was
 * 32 KiB. Lowered to 4 KiB when a get's reply still went through here: its 4 KiB value then went
 * from LevelDB's buffer to the socket without msgpack's copy, p50 97 -> 91 and 118 -> 111 µs one at
 * a time (two runs, taking turns in one process), 64 in flight unchanged. Single-key requests and
 * replies now have a layout of their own (single-key-frames.ts); this applies to the byte fields
 * of every other message (index and region requests, procedure results), not measured apart.
 */
export const TAIL_BYTES_MIN = 4 * 1024;
const TAILS_MAX = 64;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isTail(value: unknown): boolean {
  return value instanceof PackedListChunks || (value instanceof Uint8Array && value.length >= TAIL_BYTES_MIN);
}

/** True when some element of the envelope, or a direct field of one, would travel as a tail. */
function hasTails(message: unknown[]): boolean {
  for (const element of message) {
    if (isTail(element)) return true;
    if (isPlainObject(element)) {
      for (const field in element) if (isTail(element[field])) return true;
    }
  }
  return false;
}

/** Returns the frame as chunks to write in order (prefix and header first). */
export function encodeFrameChunks(message: unknown): Buffer[] {
  const singleKey = encodeSingleKeyFrame(message);
  if (singleKey !== undefined) return singleKey;
  // Most messages (single operations, their replies) have no tail: one msgpack pass, no copies.
  if (!Array.isArray(message) || !hasTails(message)) return [encodeFramedMessage(message)];
  const tails: Array<Uint8Array | PackedListChunks> = [];
  const take = (value: unknown): unknown => {
    if (!isTail(value)) return value;
    if (tails.length >= TAILS_MAX) {
      // Byte strings past the last tail stay inside msgpack; a packed list has no msgpack form.
      if (value instanceof PackedListChunks) throw new TypeError(`a message may carry at most ${TAILS_MAX} tails`);
      return value;
    }
    tails.push(value as Uint8Array | PackedListChunks);
    return { [TAIL_KEY]: tails.length - 1 };
  };
  const envelope = message.map((element: unknown) => {
    if (isPlainObject(element)) {
      let copy: Record<string, unknown> | undefined;
      for (const [field, value] of Object.entries(element)) {
        const moved = take(value);
        if (moved !== value) (copy ??= { ...element })[field] = moved;
      }
      return copy ?? element;
    }
    return take(element);
  });
  const header = encodeMessage(envelope);
  const preludeBytes = 1 + 2 + 4 * tails.length + 4;
  let payloadBytes = preludeBytes + header.length;
  const tailBytes = (tail: Uint8Array | PackedListChunks): number =>
    (tail instanceof PackedListChunks ? tail.byteLength : tail.length);
  for (const tail of tails) payloadBytes += tailBytes(tail);
  const head = Buffer.allocUnsafe(4 + preludeBytes + header.length);
  head.writeUInt32BE(payloadBytes, 0);
  head[4] = TAIL_MARK;
  head.writeUInt16BE(tails.length, 5);
  let at = 7;
  for (const tail of tails) { head.writeUInt32BE(tailBytes(tail), at); at += 4; }
  head.writeUInt32BE(header.length, at);
  head.set(header, at + 4);
  const chunks: Buffer[] = [head];
  for (const tail of tails) {
    if (tail instanceof PackedListChunks) chunks.push(...tail.chunks);
    else chunks.push(asBuffer(tail));
  }
  return chunks;
}

function protocol(why: string): HpckvError {
  return new HpckvError(ErrorCodes.PROTOCOL, `malformed tailed frame: ${why}`);
}

/** Decodes a frame payload of any form (msgpack, tailed, single-key); malformed bytes are HPCKV_ERR_PROTOCOL. */
export function decodeFramePayload(payload: Buffer): unknown {
  if (payload.length === 0 || payload[0] !== TAIL_MARK) return decodeMessage(payload);
  if (isSingleKeyPayload(payload)) return decodeSingleKeyPayload(payload);
  if (payload.length < 3) throw protocol('too short');
  const count = payload.readUInt16BE(1);
  if (count === 0 || count > TAILS_MAX) throw protocol(`${count} tails`);
  const preludeBytes = 1 + 2 + 4 * count + 4;
  if (payload.length < preludeBytes) throw protocol('too short for its size table');
  const headerBytes = payload.readUInt32BE(3 + 4 * count);
  let at = preludeBytes + headerBytes;
  if (at > payload.length) throw protocol('header runs past the end');
  const tails: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const size = payload.readUInt32BE(3 + 4 * i);
    if (at + size > payload.length) throw protocol(`tail ${i} runs past the end`);
    tails.push(payload.subarray(at, at + size));
    at += size;
  }
  if (at !== payload.length) throw protocol('trailing bytes');
  const message = decodeMessage(payload.subarray(preludeBytes, preludeBytes + headerBytes));
  const restore = (value: unknown): unknown => {
    if (isPlainObject(value) && TAIL_KEY in value) {
      const index = value[TAIL_KEY];
      if (typeof index !== 'number' || tails[index] === undefined) throw protocol('bad tail reference');
      return tails[index];
    }
    return value;
  };
  if (!Array.isArray(message)) throw protocol('header is not an envelope');
  return message.map((element: unknown) => {
    const restored = restore(element);
    if (restored !== element || !isPlainObject(element)) return restored;
    for (const field of Object.keys(element)) element[field] = restore(element[field]);
    return element;
  });
}

import { ErrorCodes, HpckvError } from '../errors.js';
import { asBuffer } from './as-buffer.js';
import { COPY_BELOW_BYTES } from './packed-list.js';

/**
 * The hottest messages, single-key requests and their plain replies, in a fixed binary layout
 * instead of msgpack. They decode to exactly the message msgpack would have carried, so nothing
 * above the frame layer knows. Why: msgpack of `[0, id, 'get', { db, key }]` cost 1.2-1.7 µs to
 * encode in a hot loop (a 4 KiB put 2.8-4.5 µs), and more on the cold path of one request at a
 * time; this layout is a few fixed-size writes.
 *
 * A payload that starts with 0xc1 0x00 0x00 (a tailed frame with no tails, which that form never
 * uses) is one of:
 *   request  | 1 | u32 id | u8 op | u8 flags | u8 dbBytes | db | u16 keyBytes | key | value...
 *            op: get, put, del, exists, putIfAbsent, append, length (codes 0..6)
 *            flags: 1 = has value (the rest of the payload), 2 = has sync, 4 = sync is true
 *   success  | 2 | u32 id                  result null
 *   success  | 3 | u32 id | bytes...       result the bytes
 *   success  | 4 | u32 id | u8 0 or 1      result false or true
 */

const MARK = [0xc1, 0x00, 0x00] as const;
const MARK_BYTES = MARK.length;
const KIND = { request: 1, null: 2, bytes: 3, boolean: 4 } as const;
const FLAG = { hasValue: 1, hasSync: 2, syncTrue: 4 } as const;

/** The ops carried this way, by code (new ones go at the end); a request of another op travels as msgpack. */
const OPS = ['get', 'put', 'del', 'exists', 'putIfAbsent', 'append', 'length'] as const;
const OP_CODES = new Map<string, number>(OPS.map((op, code) => [op, code]));
const DB_BYTES_MAX = 255;
const KEY_BYTES_MAX = 0xffff;
const ID_MAX = 0xffff_ffff;

/** True when the payload is in this layout. */
export function isSingleKeyPayload(payload: Buffer): boolean {
  return payload.length > MARK_BYTES && payload[0] === MARK[0] && payload[1] === MARK[1] && payload[2] === MARK[2];
}

function isId(id: unknown): id is number {
  return typeof id === 'number' && Number.isInteger(id) && id >= 0 && id <= ID_MAX;
}

function frameHead(payloadBytes: number, kind: number, id: number, extraBytes: number): Buffer {
  const head = Buffer.allocUnsafe(4 + MARK_BYTES + 1 + 4 + extraBytes);
  head.writeUInt32BE(payloadBytes, 0);
  head[4] = MARK[0];
  head[5] = MARK[1];
  head[6] = MARK[2];
  head[7] = kind;
  head.writeUInt32BE(id, 8);
  return head;
}

/**
 * The frame (prefix included) of `message` in this layout, as chunks to write in order, or
 * undefined when the message is not of a shape it carries (it then travels as msgpack).
 */
export function encodeSingleKeyFrame(message: unknown): Buffer[] | undefined {
  if (!Array.isArray(message)) return undefined;
  const [kind, id] = message as unknown[];
  if (!isId(id)) return undefined;
  if (kind === 0 && message.length === 4) return encodeRequest(id, message[2], message[3]);
  if (kind === 1 && message.length === 3) return encodeSuccess(id, message[2]);
  return undefined;
}

function encodeRequest(id: number, op: unknown, body: unknown): Buffer[] | undefined {
  const code = typeof op === 'string' ? OP_CODES.get(op) : undefined;
  if (code === undefined || typeof body !== 'object' || body === null || Object.getPrototypeOf(body) !== Object.prototype) return undefined;
  let db: unknown, key: unknown, value: unknown, sync: unknown;
  for (const field in body) {
    const fieldValue = (body as Record<string, unknown>)[field];
    if (field === 'db') db = fieldValue;
    else if (field === 'key') key = fieldValue;
    else if (field === 'value') value = fieldValue;
    else if (field === 'sync') sync = fieldValue;
    else return undefined;
  }
  if (typeof db !== 'string' || !(key instanceof Uint8Array) || key.length > KEY_BYTES_MAX) return undefined;
  if (value !== undefined && !(value instanceof Uint8Array)) return undefined;
  if (sync !== undefined && typeof sync !== 'boolean') return undefined;
  const dbBytes = Buffer.byteLength(db);
  if (dbBytes > DB_BYTES_MAX) return undefined;
  const flags = (value !== undefined ? FLAG.hasValue : 0) | (sync !== undefined ? FLAG.hasSync : 0) | (sync === true ? FLAG.syncTrue : 0);
  const fixed = 1 + 1 + 1 + dbBytes + 2;
  const valueBytes = value === undefined ? 0 : value.length;
  // A short key (and then a short value) goes into the head: each writev chunk costs Node more
  // than copying a few hundred bytes (see COPY_BELOW_BYTES).
  const keyInHead = key.length < COPY_BELOW_BYTES;
  const valueInHead = keyInHead && valueBytes < COPY_BELOW_BYTES;
  const head = frameHead(MARK_BYTES + 1 + 4 + fixed + key.length + valueBytes, KIND.request, id,
    fixed + (keyInHead ? key.length : 0) + (valueInHead ? valueBytes : 0));
  let at = 12;
  head[at++] = code;
  head[at++] = flags;
  head[at++] = dbBytes;
  at += head.write(db, at, 'utf8');
  at = head.writeUInt16BE(key.length, at);
  const chunks = [head];
  if (keyInHead) {
    head.set(key, at);
    at += key.length;
  } else {
    chunks.push(asBuffer(key));
  }
  if (value !== undefined && valueBytes > 0) {
    if (valueInHead) head.set(value, at);
    else chunks.push(asBuffer(value));
  }
  return chunks;
}

function encodeSuccess(id: number, result: unknown): Buffer[] | undefined {
  if (result === null) return [frameHead(MARK_BYTES + 5, KIND.null, id, 0)];
  if (typeof result === 'boolean') {
    const head = frameHead(MARK_BYTES + 6, KIND.boolean, id, 1);
    head[12] = result ? 1 : 0;
    return [head];
  }
  if (result instanceof Uint8Array) {
    const inHead = result.length < COPY_BELOW_BYTES;
    const head = frameHead(MARK_BYTES + 5 + result.length, KIND.bytes, id, inHead ? result.length : 0);
    if (inHead) head.set(result, 12);
    return inHead ? [head] : [head, asBuffer(result)];
  }
  return undefined;
}

function malformed(why: string): HpckvError {
  return new HpckvError(ErrorCodes.PROTOCOL, `malformed single-key frame: ${why}`);
}

/** Decodes a payload for which isSingleKeyPayload holds; bytes and keys are views of it. Malformed bytes are HPCKV_ERR_PROTOCOL. */
export function decodeSingleKeyPayload(payload: Buffer): unknown[] {
  if (payload.length < MARK_BYTES + 5) throw malformed('too short');
  const kind = payload[MARK_BYTES]!;
  const id = payload.readUInt32BE(MARK_BYTES + 1);
  const rest = MARK_BYTES + 5;
  switch (kind) {
    case KIND.null:
      if (payload.length !== rest) throw malformed('trailing bytes');
      return [1, id, null];
    case KIND.boolean:
      if (payload.length !== rest + 1 || payload[rest]! > 1) throw malformed('bad boolean');
      return [1, id, payload[rest] === 1];
    case KIND.bytes:
      return [1, id, payload.subarray(rest)];
    case KIND.request:
      return decodeRequest(payload, id, rest);
    default:
      throw malformed(`unknown kind ${kind}`);
  }
}

function decodeRequest(payload: Buffer, id: number, start: number): unknown[] {
  if (payload.length < start + 3) throw malformed('request too short');
  const op = OPS[payload[start]!];
  if (op === undefined) throw malformed(`unknown op code ${payload[start]!}`);
  const flags = payload[start + 1]!;
  if ((flags & ~(FLAG.hasValue | FLAG.hasSync | FLAG.syncTrue)) !== 0 || ((flags & FLAG.syncTrue) !== 0 && (flags & FLAG.hasSync) === 0)) throw malformed(`bad flags ${flags}`);
  const dbBytes = payload[start + 2]!;
  let at = start + 3;
  if (payload.length < at + dbBytes + 2) throw malformed('request too short for its db');
  const db = payload.toString('utf8', at, at + dbBytes);
  at += dbBytes;
  const keyBytes = payload.readUInt16BE(at);
  at += 2;
  if (payload.length < at + keyBytes) throw malformed('key runs past the end');
  const body: Record<string, unknown> = { db, key: payload.subarray(at, at + keyBytes) };
  at += keyBytes;
  if ((flags & FLAG.hasValue) !== 0) body['value'] = payload.subarray(at);
  else if (at !== payload.length) throw malformed('trailing bytes');
  if ((flags & FLAG.hasSync) !== 0) body['sync'] = (flags & FLAG.syncTrue) !== 0;
  return [0, id, op, body];
}

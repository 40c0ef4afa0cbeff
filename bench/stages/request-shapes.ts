import { asBuffer, keyBytes, valueBytes } from '../../client/bytes.js';
import { sendPutMany } from '../../client/put-many-parts.js';
import { DEFAULT_PARTITION } from '../../core/group-file.js';
import { resolveLimits, type Limits } from '../../core/limits.js';
import { DEFAULT_DATABASE, type OpName, type OpReply, type OpRequest } from '../../core/protocol/messages.js';
import { MessageKind } from '../../core/rpc/rpc-messages.js';
import { encodeFrameChunks } from '../../core/wire/tail-frames.js';
import { createPartitioner, groupByServer, type Partitioner } from '../../partition/partitioner.js';
import { benchKey, benchValue } from '../bench-records.js';

/**
 * The requests of the stage breakdown, built by the same pieces the client uses (client/bytes.ts,
 * the partitioner, client/put-many-parts.ts, core/wire/tail-frames.ts), so every stage is timed on
 * the message shapes that really travel.
 */

export type ScenarioId = 'put-1' | 'put-64' | 'get-1' | 'get-64' | 'bulk-put-4KiB' | 'bulk-put-64B';

export interface Scenario {
  id: ScenarioId;
  title: string;
  kind: 'put' | 'get' | 'bulk';
  /** Requests outstanding at once (1 or 64); a bulk call is one at a time. */
  inFlight: number;
  valueBytes: number;
  /** Records per call: 1, or 1000 for putMany. */
  records: number;
  /** What one "op" of the table is. */
  unit: 'µs per op' | 'µs per call';
}

export const BULK_RECORDS = 1000;
export const IN_FLIGHT = 64;

export const SCENARIOS: readonly Scenario[] = [
  { id: 'put-1', title: 'single put, 1 in flight (4 KiB value, 15-byte key)', kind: 'put', inFlight: 1, valueBytes: 4096, records: 1, unit: 'µs per op' },
  { id: 'put-64', title: 'single put, 64 in flight (4 KiB value)', kind: 'put', inFlight: IN_FLIGHT, valueBytes: 4096, records: 1, unit: 'µs per op' },
  { id: 'get-1', title: 'single get, 1 in flight (4 KiB value)', kind: 'get', inFlight: 1, valueBytes: 4096, records: 1, unit: 'µs per op' },
  { id: 'get-64', title: 'single get, 64 in flight (4 KiB value)', kind: 'get', inFlight: IN_FLIGHT, valueBytes: 4096, records: 1, unit: 'µs per op' },
  { id: 'bulk-put-4KiB', title: 'bulk putMany, 1000 × 4 KiB (one message: below putManyPartBytesMax)', kind: 'bulk', inFlight: 1, valueBytes: 4096, records: BULK_RECORDS, unit: 'µs per call' },
  { id: 'bulk-put-64B', title: 'bulk putMany, 1000 × 64 B (one message)', kind: 'bulk', inFlight: 1, valueBytes: 64, records: BULK_RECORDS, unit: 'µs per call' },
];

/** What the client holds to build a request: its limits and the partitioner of a 1-server group. */
export interface ClientPieces {
  limits: Limits;
  partitioner: Partitioner;
}

export function clientPieces(): ClientPieces {
  return { limits: resolveLimits(), partitioner: createPartitioner(DEFAULT_PARTITION, 1) };
}

/** Key numbers never overlap between uses: each use of fresh keys takes its own block. */
let nextKeyBlock = 0;

/**
 * `rounds` arrays of `count` keys never handed out before (benchKey: 15 bytes, scrambled), built
 * before any timing so key making is not timed. Writes need new keys each repetition: a key
 * written before would make the key filter send the write to read its old value.
 */
export function freshKeys(rounds: number, count: number): Buffer[][] {
  const base = nextKeyBlock;
  nextKeyBlock += rounds * count;
  return Array.from({ length: rounds }, (_, r) => Array.from({ length: count }, (_, i) => benchKey(base + r * count + i)));
}

/** `count` values of `size` bytes, as the other benches write them. */
export function values(count: number, size: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => benchValue(i, size));
}

/** Client.put's request (keyedWrite in client/single-key-ops.ts): checked key and value, owner, body. */
export function putRequest(pieces: ClientPieces, key: Uint8Array, value: Uint8Array): { rank: number; body: { db: string; key: Uint8Array; value: Uint8Array } } {
  const bytes = keyBytes(key, pieces.limits);
  return { rank: pieces.partitioner.serverFor(bytes), body: { db: DEFAULT_DATABASE, key: bytes, value: valueBytes(value, pieces.limits) } };
}

/** Client.get's request (keyed in client/single-key-ops.ts). */
export function getRequest(pieces: ClientPieces, key: Uint8Array): { rank: number; body: { db: string; key: Uint8Array } } {
  const bytes = keyBytes(key, pieces.limits);
  return { rank: pieces.partitioner.serverFor(bytes), body: { db: DEFAULT_DATABASE, key: bytes } };
}

/** The rpc envelope RpcClient sends for a request. */
export function requestEnvelope(id: number, op: string, body: unknown): unknown[] {
  return [MessageKind.request, id, op, body];
}

/**
 * Client.putMany up to the wire: checks keys and values, groups them by server, and has
 * sendPutMany split them into parts exactly as it does for a server; `send` gets each message
 * (op and body) it would hand the connection. Resolves once every part was handed over.
 */
export async function putManyMessages(pieces: ClientPieces, keys: readonly Uint8Array[], values: readonly Uint8Array[],
  send: (op: string, body: unknown) => void): Promise<void> {
  const checkedKeys = keys.map((key) => keyBytes(key, pieces.limits));
  const checkedValues = values.map((value) => valueBytes(value, pieces.limits));
  const byServer = groupByServer(pieces.partitioner, checkedKeys);
  const call = <O extends OpName>(op: O, body: OpRequest<O>): Promise<OpReply<O>> => {
    send(op, body);
    return Promise.resolve(null as OpReply<O>);
  };
  await Promise.all(byServer.map((indices) => (indices.length === 0 ? undefined : sendPutMany(call, DEFAULT_DATABASE,
    indices.map((i) => checkedKeys[i]!), indices.map((i) => checkedValues[i]!), undefined, pieces.limits.putManyPartBytesMax))));
}

/** The request envelopes of one putMany call (for the server side: what arrives). */
export async function putManyEnvelopes(pieces: ClientPieces, keys: readonly Uint8Array[], values: readonly Uint8Array[]): Promise<unknown[]> {
  const envelopes: unknown[] = [];
  await putManyMessages(pieces, keys, values, (op, body) => envelopes.push(requestEnvelope(envelopes.length + 1, op, body)));
  return envelopes;
}

/** A message as the bytes that cross the socket (length prefix, msgpack header, tails). */
export function frameBytes(message: unknown): Buffer {
  return Buffer.concat(encodeFrameChunks(message));
}

/**
 * Bytes as a stream socket hands them to the reader: cut into chunks of at most `chunkBytes`
 * (a Unix socket read gives at most 64 KiB), regardless of frame boundaries.
 */
export function asReads(bytes: Buffer, chunkBytes: number): Buffer[] {
  const reads: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += chunkBytes) reads.push(bytes.subarray(at, Math.min(bytes.length, at + chunkBytes)));
  return reads;
}

/** The Client's view of a get reply's value (toBufferOrUndefined in client/single-key-ops.ts). */
export function replyValue(value: unknown): Buffer | undefined {
  return value instanceof Uint8Array ? asBuffer(value) : undefined;
}

/** Unix stream sockets deliver reads of at most this many bytes (the bulk frames arrive in such pieces). */
export const SOCKET_READ_BYTES = 64 * 1024;

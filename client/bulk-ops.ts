import { ErrorCodes, HpckvError } from '../core/errors.js';
import { BatchOpCode, DEFAULT_DATABASE, type BatchEntry } from '../core/protocol/messages.js';
import { packList, unpackList } from '../core/wire/packed-list.js';
import { asBuffer, checkBatchEntries, valueBytes, type BytesInput } from './bytes.js';
import { syncOf, type ClientCore } from './core/client-core.js';
import { allParts } from './core/fan-out.js';
import type { BatchOperation, KeyInput, RequestOptions, WriteOptions } from './core/options.js';
import { sendPutMany } from './put-many-parts.js';

/**
 * The multi-key operations of the Client (batch, putMany, getMany, existsMany, delMany): the keys
 * are checked and routed once, split into one message per owning server, sent all at once, and
 * the answers put back in the caller's order. Kept apart from the single-key path so neither
 * pays for the other's shape.
 */

/**
 * Runs `send` once per server that owns any of the keys, all in parallel. Waits for every part
 * before failing, so a caller never sees an error while parts of its call are still running.
 */
async function perServer(core: ClientCore, keys: readonly Uint8Array[], send: (rank: number, indices: number[]) => Promise<unknown>): Promise<void> {
  const byServer = core.router.byServer(keys);
  const parts: Array<Promise<unknown>> = [];
  byServer.forEach((indices, rank) => { if (indices.length > 0) parts.push(send(rank, indices)); });
  await allParts(parts);
}

/** Checks the count and encodes every key (each checked), in the caller's order. */
function encodeKeys(core: ClientCore, keyInputs: readonly KeyInput[]): Uint8Array[] {
  checkBatchEntries(keyInputs.length, core.limits);
  return keyInputs.map((key) => core.encodeKey(key));
}

export async function batch(core: ClientCore, operations: readonly BatchOperation[], options: WriteOptions): Promise<void> {
  checkBatchEntries(operations.length, core.limits);
  const keys = operations.map((op) => core.encodeKey(op.key));
  const entries: BatchEntry[] = operations.map((op, i) => {
    if (op.type === 'put') return [BatchOpCode.put, keys[i]!, valueBytes(op.value, core.limits)];
    if (op.type === 'del') return [BatchOpCode.del, keys[i]!];
    throw new TypeError(`batch operation ${i} has unknown type ${String((op as { type: unknown }).type)}`);
  });
  const db = options.db ?? DEFAULT_DATABASE;
  await perServer(core, keys, (rank, indices) =>
    core.call(rank, 'batch', { db, ops: indices.map((i) => entries[i]!), ...syncOf(options) }, options));
}

export async function putMany(core: ClientCore, entries: ReadonlyArray<readonly [KeyInput, BytesInput]>, options: WriteOptions): Promise<void> {
  checkBatchEntries(entries.length, core.limits);
  const keys = entries.map(([key]) => core.encodeKey(key));
  const values = entries.map(([, value]) => valueBytes(value, core.limits));
  const db = options.db ?? DEFAULT_DATABASE;
  const partBytesMax = core.limits.putManyPartBytesMax;
  await perServer(core, keys, (rank, indices) => sendPutMany((op, body) => core.call(rank, op, body, options), db,
    indices.map((i) => keys[i]!), indices.map((i) => values[i]!), options.sync, partBytesMax));
}

export async function getMany(core: ClientCore, keyInputs: readonly KeyInput[], options: RequestOptions): Promise<Array<Buffer | undefined>> {
  const keys = encodeKeys(core, keyInputs);
  const db = options.db ?? DEFAULT_DATABASE;
  const out = new Array<Buffer | undefined>(keys.length);
  await perServer(core, keys, async (rank, indices) => {
    const reply = await core.call(rank, 'getMany', { db, packedKeys: packList(indices.map((i) => keys[i]!)) }, options);
    // On the wire a PackedListChunks reply arrives as bytes.
    const values = reply instanceof Uint8Array ? unpackReply(reply, indices.length) : reply as Array<Uint8Array | null>;
    for (let j = 0; j < indices.length; j++) {
      const value = values[j];
      out[indices[j]!] = value === null || value === undefined ? undefined : asBuffer(value);
    }
  });
  return out;
}

export async function existsMany(core: ClientCore, keyInputs: readonly KeyInput[], options: RequestOptions): Promise<boolean[]> {
  const keys = encodeKeys(core, keyInputs);
  const db = options.db ?? DEFAULT_DATABASE;
  const out = new Array<boolean>(keys.length).fill(false);
  await perServer(core, keys, async (rank, indices) => {
    const found = await core.call(rank, 'existsMany', { db, keys: indices.map((i) => keys[i]!) }, options);
    for (let j = 0; j < indices.length; j++) out[indices[j]!] = found[j] === true;
  });
  return out;
}

export async function delMany(core: ClientCore, keyInputs: readonly KeyInput[], options: WriteOptions): Promise<void> {
  const keys = encodeKeys(core, keyInputs);
  const db = options.db ?? DEFAULT_DATABASE;
  await perServer(core, keys, (rank, indices) =>
    core.call(rank, 'delMany', { db, keys: indices.map((i) => keys[i]!), ...syncOf(options) }, options));
}

function unpackReply(reply: Uint8Array, expected: number): Array<Buffer | null> {
  const values = unpackList(reply, 'getMany reply', expected, null);
  if (values.length !== expected) {
    throw new HpckvError(ErrorCodes.PROTOCOL, `getMany reply has ${values.length} values for ${expected} keys`);
  }
  return values;
}

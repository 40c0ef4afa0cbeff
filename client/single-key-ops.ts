import { DEFAULT_DATABASE } from '../core/protocol/messages.js';
import { asBuffer, valueBytes, type BytesInput } from './bytes.js';
import { syncOf, type ClientCore } from './core/client-core.js';
import type { KeyInput, RequestOptions, WriteOptions } from './core/options.js';

/**
 * The single-key operations of the Client (put, get, del, exists, length, putIfAbsent, append):
 * one key, routed once, one request to its owner. This is the client's hottest path, so a
 * request is built as one object with no closure and put and get are not async functions (that
 * saves a promise and a turn per call; a bad key or value still rejects rather than throws).
 */

/** A single-key request: its server and body. */
export interface KeyedRequest {
  rank: number;
  body: { db: string; key: Uint8Array };
}

/** A single-key write with a value (put, putIfAbsent, append). */
export interface KeyedWrite {
  rank: number;
  body: { db: string; key: Uint8Array; value: Uint8Array; sync?: boolean };
}

/** A single-key request's server and body, built as one object (this is every single operation's path). */
export function keyed(core: ClientCore, key: KeyInput, options: RequestOptions): KeyedRequest {
  const bytes = core.encodeKey(key);
  return { rank: core.router.serverFor(bytes), body: { db: options.db ?? DEFAULT_DATABASE, key: bytes } };
}

/** A single-key write's server and body, the value checked. */
export function keyedWrite(core: ClientCore, key: KeyInput, value: BytesInput, options: WriteOptions): KeyedWrite {
  const bytes = core.encodeKey(key);
  const body: KeyedWrite['body'] = { db: options.db ?? DEFAULT_DATABASE, key: bytes, value: valueBytes(value, core.limits) };
  if (options.sync !== undefined) body.sync = options.sync;
  return { rank: core.router.serverFor(bytes), body };
}

export function put(core: ClientCore, key: KeyInput, value: BytesInput, options: WriteOptions): Promise<void> {
  let request: KeyedWrite;
  try {
    request = keyedWrite(core, key, value, options);
  } catch (error) {
    return Promise.reject(error);
  }
  return core.call(request.rank, 'put', request.body, options).then(toVoid);
}

export function get(core: ClientCore, key: KeyInput, options: RequestOptions): Promise<Buffer | undefined> {
  let request: KeyedRequest;
  try {
    request = keyed(core, key, options);
  } catch (error) {
    return Promise.reject(error);
  }
  return core.call(request.rank, 'get', request.body, options).then(toBufferOrUndefined);
}

export async function del(core: ClientCore, key: KeyInput, options: WriteOptions): Promise<void> {
  const { rank, body } = keyed(core, key, options);
  await core.call(rank, 'del', { ...body, ...syncOf(options) }, options);
}

export async function exists(core: ClientCore, key: KeyInput, options: RequestOptions): Promise<boolean> {
  const { rank, body } = keyed(core, key, options);
  return core.call(rank, 'exists', body, options);
}

export async function length(core: ClientCore, key: KeyInput, options: RequestOptions): Promise<number | undefined> {
  const { rank, body } = keyed(core, key, options);
  const stored = await core.call(rank, 'length', body, options);
  return stored === null ? undefined : stored;
}

export async function putIfAbsent(core: ClientCore, key: KeyInput, value: BytesInput, options: WriteOptions): Promise<void> {
  const { rank, body } = keyedWrite(core, key, value, options);
  await core.call(rank, 'putIfAbsent', body, options);
}

export async function append(core: ClientCore, key: KeyInput, value: BytesInput, options: WriteOptions): Promise<number> {
  const { rank, body } = keyedWrite(core, key, value, options);
  return core.call(rank, 'append', body, options);
}

function toVoid(): void {
  return undefined;
}

function toBufferOrUndefined(value: Uint8Array | null): Buffer | undefined {
  return value === null ? undefined : asBuffer(value);
}

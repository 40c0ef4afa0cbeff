import type { GroupFile } from '../../core/group-file.js';
import { keyCodec, type KeyCodec } from '../../core/keys/key-codec.js';
import { parseKeyType, type KeyValue } from '../../core/keys/key-type.js';
import type { Limits } from '../../core/limits.js';
import type { KeyRangeWire, OpName, OpReply, OpRequest } from '../../core/protocol/messages.js';
import { checkKey } from '../../core/protocol/field-checks.js';
import { asBuffer, keyBytes, type BytesInput } from '../bytes.js';
import type { ServerConnections } from '../server-connections.js';
import type { KeyInput, RangeOptions, RequestOptions, WriteOptions } from './options.js';
import { encodeBounds } from './range-routing.js';
import { Router } from './router.js';

/**
 * What every feature of the client works over: the group and its limits, the router, one
 * connection per server and the store's key codec. The feature modules (single-key, bulk and
 * range operations, procedures, indexes) are functions of this core, not of the Client, so the
 * Client stays a thin public facade and none of them reaches into another.
 */
export class ClientCore {
  readonly group: GroupFile;
  readonly limits: Limits;
  readonly router: Router;
  readonly connections: ServerConnections;
  /** The store's key codec; undefined for `bytes` stores, whose keys are taken as given. */
  readonly #codec: KeyCodec | undefined;

  constructor(group: GroupFile, limits: Limits, connections: ServerConnections) {
    this.group = group;
    this.limits = limits;
    this.router = Router.forGroup(group);
    this.connections = connections;
    this.#codec = group.keyType === 'bytes' ? undefined : keyCodec(parseKeyType(group.keyType));
  }

  /** RequestOptions is a CallOptions (timeoutMs, signal); its other fields are ignored there. */
  call<O extends OpName>(rank: number, op: O, body: OpRequest<O>, options: RequestOptions): Promise<OpReply<O>> {
    return this.connections.call(rank, op, body, options) as Promise<OpReply<O>>;
  }

  /** A key as the store holds it (Client.encodeKey). */
  encodeKey(key: KeyInput): Uint8Array {
    if (this.#codec === undefined) return keyBytes(key as BytesInput, this.limits);
    return checkKey(this.#codec.encode(key as KeyValue), this.limits);
  }

  /** The value of a key read back (Client.decodeKey). */
  decodeKey(bytes: Uint8Array): KeyValue {
    return this.#codec === undefined ? asBuffer(bytes) : this.#codec.decode(bytes);
  }

  /** A range's bounds as stored bytes, each key checked. */
  rangeBounds(range: RangeOptions): KeyRangeWire {
    return encodeBounds(range, (key) => this.encodeKey(key));
  }
}

/** The `sync` field of a write's body: present only when the caller set it. */
export function syncOf(options: WriteOptions): { sync?: boolean } {
  return options.sync === undefined ? {} : { sync: options.sync };
}

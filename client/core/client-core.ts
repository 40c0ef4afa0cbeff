import type { GroupFile } from '../../core/group-file.js';
import { keyInputEncoder, type KeyInputEncoder } from '../../core/keys/key-input.js';
import type { KeyValue } from '../../core/keys/key-type.js';
import type { Limits } from '../../core/limits.js';
import type { KeyRangeWire, OpName, OpReply, OpRequest } from '../../core/protocol/messages.js';
import { checkKey } from '../../core/protocol/field-checks.js';
import type { ServerConnections } from '../server-connections.js';
import type { KeyInput, RangeOptions, RequestOptions, WriteOptions } from './options.js';
import { encodeBounds, encodePrefix } from './range-routing.js';
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
  /** How the store's keys are encoded: as given (a string as UTF-8) for `bytes` stores, by the key type's codec otherwise. */
  readonly #keys: KeyInputEncoder;

  constructor(group: GroupFile, limits: Limits, connections: ServerConnections) {
    this.group = group;
    this.limits = limits;
    this.router = Router.forGroup(group);
    this.connections = connections;
    this.#keys = keyInputEncoder(group.keyType);
  }

  /** RequestOptions is a CallOptions (timeoutMs, signal); its other fields are ignored there. */
  call<O extends OpName>(rank: number, op: O, body: OpRequest<O>, options: RequestOptions): Promise<OpReply<O>> {
    return this.connections.call(rank, op, body, options) as Promise<OpReply<O>>;
  }

  /** A key as the store holds it (Client.encodeKey). */
  encodeKey(key: KeyInput): Uint8Array {
    return checkKey(this.#keys.key(key), this.limits);
  }

  /** The value of a key read back (Client.decodeKey). */
  decodeKey(bytes: Uint8Array): KeyValue {
    return this.#keys.decode(bytes);
  }

  /** A range's bounds as stored bytes (tuple prefixes and the `prefix` option resolved), each checked. */
  rangeBounds(range: RangeOptions): KeyRangeWire {
    const bounds = range.prefix === undefined
      ? encodeBounds(range, (key) => this.#keys.bound(key))
      : encodePrefix({ ...range, prefix: range.prefix }, (prefix) => this.#keys.prefixRange(prefix));
    for (const bound of Object.values(bounds)) checkKey(bound, this.limits);
    return bounds;
  }
}

/** The `sync` field of a write's body: present only when the caller set it. */
export function syncOf(options: WriteOptions): { sync?: boolean } {
  return options.sync === undefined ? {} : { sync: options.sync };
}

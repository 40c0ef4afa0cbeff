import type { KeyValue } from '../core/keys/key-type.js';
import type { BytesInput } from './bytes.js';
import type { ClientCore } from './core/client-core.js';
import type { KeyInput, RequestOptions, WriteOptions } from './core/options.js';
import { SecondaryIndex, type CreateIndexOptions, type IndexHost, type OpenIndexOptions } from './secondary-index.js';

/**
 * The secondary indexes a client created or opened, by name, and the writes through several of
 * them at once (Client.putIndexed, delIndexed). The glue between the client core and
 * client/secondary-index.ts: it lends the indexes the core's calls, key codec and routing.
 */
export class OpenedIndexes {
  readonly #host: IndexHost;
  readonly #byName = new Map<string, SecondaryIndex>();

  constructor(core: ClientCore) {
    this.#host = {
      group: core.group,
      limits: core.limits,
      call: (rank, op, body, options) => core.call(rank, op, body, options),
      encodeKey: (key) => core.encodeKey(key),
      decodeKey: (bytes) => core.decodeKey(bytes),
      router: core.router,
    };
  }

  async create(name: string, options: CreateIndexOptions, callOptions: RequestOptions): Promise<SecondaryIndex> {
    const index = await SecondaryIndex.create(this.#host, name, options, callOptions);
    this.#byName.set(name, index);
    return index;
  }

  async open(name: string, options: OpenIndexOptions): Promise<SecondaryIndex> {
    const index = await SecondaryIndex.open(this.#host, name, options);
    this.#byName.set(name, index);
    return index;
  }

  async putIndexed(key: KeyInput, value: BytesInput, keysByIndex: Readonly<Record<string, readonly KeyValue[]>>, options: WriteOptions): Promise<void> {
    if (typeof keysByIndex !== 'object' || keysByIndex === null || Array.isArray(keysByIndex)) {
      throw new TypeError('putIndexed needs { indexName: secondaryKeys[] }');
    }
    const names = Object.keys(keysByIndex);
    const indexes = await this.#named(names, options);
    await SecondaryIndex.write(key, value, indexes.map((index, i) => ({ index, secondaryKeys: keysByIndex[names[i]!]! })), options);
  }

  async delIndexed(key: KeyInput, indexNames: readonly string[], options: WriteOptions): Promise<void> {
    if (!Array.isArray(indexNames)) throw new TypeError('delIndexed needs an array of index names');
    const indexes = await this.#named(indexNames, options);
    await SecondaryIndex.write(key, null, indexes.map((index) => ({ index, secondaryKeys: [] })), options);
  }

  /** Indexes by name, from those created or opened here, else opened from their catalog (definitions never change). */
  #named(names: readonly string[], options: RequestOptions): Promise<SecondaryIndex[]> {
    const call: RequestOptions = {};
    if (options.timeoutMs !== undefined) call.timeoutMs = options.timeoutMs;
    if (options.signal !== undefined) call.signal = options.signal;
    return Promise.all(names.map((name) => this.#byName.get(name) ?? this.open(name, call)));
  }
}

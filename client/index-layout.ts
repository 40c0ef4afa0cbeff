/**
 * What the reads and writes of one secondary index share: its definition, the client that opened
 * it (`IndexHost`), the codec of its secondary keys, the namespace of its entries and, for a
 * global index, its own router. Apart from `SecondaryIndex` so the modules that look up,
 * write and build an index work on this, not on the class's private state.
 */
import { ErrorCodes, HpckvError } from '../core/errors.js';
import { entryKey, indexNamespace, type SecondaryBounds } from '../core/index-entry-key.js';
import { keyCodec, type KeyCodec } from '../core/keys/key-codec.js';
import { parseKeyType, type KeyValue } from '../core/keys/key-type.js';
import { checkKey, limitExceeded } from '../core/protocol/field-checks.js';
import { createPartitioner, type Partitioner } from '../partition/partitioner.js';
import { Router } from './core/router.js';
import type { RequestOptions } from './core/options.js';
import { encodeBounds } from './core/range-routing.js';
import type { IndexDefinition, IndexHost, IndexMatch, IndexPartitionSpec, SecondaryRange } from './index-types.js';

/** One opened index: its definition and how its secondary keys and entries are encoded and placed. */
export class IndexLayout {
  readonly definition: IndexDefinition;
  readonly host: IndexHost;
  /** The prefix of every key of the index in its database (core/index-entry-key.ts). */
  readonly namespace: Buffer;
  /** A global index's own router, over encoded secondary keys by the index's partition spec; null for a local index. */
  readonly router: Router | null;
  readonly #codec: KeyCodec;

  constructor(host: IndexHost, definition: IndexDefinition) {
    this.host = host;
    this.definition = definition;
    this.#codec = keyCodec(parseKeyType(definition.keyType));
    this.namespace = indexNamespace(definition.name);
    this.router = definition.partition === null ? null : new Router(indexPartitioner(definition.partition, host.group.servers.length));
  }

  get name(): string {
    return this.definition.name;
  }

  /** A secondary key as stored bytes, checked against keyBytesMax. */
  encodeSecondary(key: KeyValue): Buffer {
    const bytes = this.#codec.encode(key);
    checkKey(bytes, this.host.limits);
    return bytes;
  }

  encodeRange(range: SecondaryRange): SecondaryBounds {
    return encodeBounds(range, (key) => this.encodeSecondary(key));
  }

  /** A record's secondary keys under this index, encoded and distinct; its entry keys must fit keyBytesMax. */
  encodeAll(pk: Uint8Array, writeId: Uint8Array, secondaryKeys: readonly KeyValue[]): Buffer[] {
    if (!Array.isArray(secondaryKeys)) throw new TypeError(`secondaryKeys of index "${this.name}" must be an array of secondary keys`);
    const limits = this.host.limits;
    if (secondaryKeys.length > limits.indexKeysPerRecordMax) {
      throw limitExceeded(ErrorCodes.BATCH_TOO_LARGE, 'indexKeysPerRecordMax', `the secondary keys of index "${this.name}"`,
        secondaryKeys.length, limits.indexKeysPerRecordMax, 'entries', { index: this.name });
    }
    const encoded = distinct(secondaryKeys.map((s) => this.encodeSecondary(s)));
    for (const s of encoded) checkKey(entryKey(this.namespace, s, pk, writeId), limits);
    return encoded;
  }

  decodeMatch(secondary: Buffer, primaryKey: Buffer, value: Buffer): IndexMatch {
    return { secondaryKey: this.#codec.decode(secondary), primaryKey: this.host.decodeKey(primaryKey), value };
  }

  /** An index has fixed databases; a `db` option other than its primary database is a mistake. */
  checkDb(options: RequestOptions): void {
    if (options.db !== undefined && options.db !== this.definition.primaryDb) {
      throw new HpckvError(ErrorCodes.BAD_REQUEST,
        `index "${this.name}" indexes database "${this.definition.primaryDb}", not "${options.db}"`, { details: { db: options.db, index: this.name } });
    }
  }
}

/** The partitioner of a global index's spec; a spec it refuses is HPCKV_ERR_BAD_CONFIG. */
export function indexPartitioner(spec: IndexPartitionSpec, serverCount: number): Partitioner {
  try {
    return createPartitioner(spec, serverCount);
  } catch (cause) {
    throw new HpckvError(ErrorCodes.BAD_CONFIG, `bad index partition: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

function distinct(keys: Buffer[]): Buffer[] {
  const seen = new Set<string>();
  return keys.filter((key) => { const id = key.toString('latin1'); if (seen.has(id)) return false; seen.add(id); return true; });
}

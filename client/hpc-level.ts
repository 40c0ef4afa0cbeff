import { AbstractLevel, type AbstractDatabaseOptions } from 'abstract-level';
import { DEFAULT_DATABASE } from '../core/protocol/messages.js';
import { Client, type BatchOperation, type ClientOptions, type RangeOptions } from './client.js';
import type { MergedScan } from './merged-scan.js';
import type { ScanEntry } from './range-ops.js';
import { levelCall, LevelError } from './hpc-level-errors.js';
import { HpcLevelIterator, type LevelIteratorOptions, type LevelScanSource } from './hpc-level-iterator.js';
import { dataBytes, fromBytes, KeySpace, type LevelData, type LevelRange } from './hpc-level-keys.js';
import { clearRange } from './hpc-level-clear.js';

/** The prefix of an HpcLevel that names none: the single byte 0x00. */
export const DEFAULT_LEVEL_PREFIX: Readonly<Uint8Array> = Uint8Array.of(0x00);

export interface HpcLevelOptions<K = string, V = string> extends AbstractDatabaseOptions<K, V> {
  /**
   * The hpckv group: a Client (shared: HpcLevel never closes it) or the path of a group file
   * (HpcLevel opens its own Client on open() and closes it on close()).
   */
  group: Client | string;
  /** Options of the Client HpcLevel opens from a group file path. */
  clientOptions?: ClientOptions;
  /** The hpckv database (one of the group's; default "default"). */
  db?: string;
  /**
   * Bytes (or a UTF-8 string) every key is stored under, at least one byte (hpckv keys are never
   * empty; the prefix makes the level's empty key storable). Levels with different prefixes share
   * one hpckv database in isolation, as long as no prefix is a prefix of another. Default 0x00.
   */
  prefix?: Uint8Array | string;
  /** Milliseconds each hpckv request may take (default: the client's limits.requestTimeoutMs). */
  timeoutMs?: number;
}

/** The supports manifest of every HpcLevel (see README "Level ecosystem (abstract-level)"). */
export const HPC_LEVEL_MANIFEST = Object.freeze({
  // Reads see the servers' latest state: no snapshot is held by get(), getMany() or iterators.
  implicitSnapshots: false,
  explicitSnapshots: false,
  has: true,
  getSync: false,
  permanence: true,
  seek: true,
  // The hpckv database exists as long as the group does: open() neither creates nor checks it.
  createIfMissing: false,
  errorIfExists: false,
  deferredOpen: true,
  streams: false,
  encodings: { buffer: true, view: true, utf8: true },
  signals: { iterators: true },
  additionalMethods: {},
});

interface EncodingOptions {
  keyEncoding: string;
  valueEncoding: string;
  sync?: boolean;
}

interface LevelBatchOperation {
  type: 'put' | 'del';
  key: LevelData;
  value?: LevelData;
}

interface LevelClearOptions extends LevelRange {
  reverse: boolean;
  /** -1 for none. */
  limit: number;
}

/**
 * An abstract-level database over one hpckv database of a group, under a key prefix. Batches
 * are atomic per server only: hpckv splits a batch into one message per server, each applied
 * as one LevelDB batch, so a batch whose keys live on several servers may commit in part when
 * one of them fails (it then rejects). Reads hold no snapshot.
 */
export class HpcLevel<K = string, V = string> extends AbstractLevel<LevelData, K, V> implements LevelScanSource {
  readonly space: KeySpace;
  /** The hpckv database name. */
  readonly database: string;
  private readonly group: Client | string;
  private readonly clientOptions: ClientOptions;
  private readonly timeoutMs: number | undefined;
  private connected: Client | undefined;

  constructor(options: HpcLevelOptions<K, V>) {
    if (typeof options !== 'object' || options === null) throw new TypeError('HpcLevel needs options with a group');
    const { group, clientOptions, db, prefix, timeoutMs, ...levelOptions } = options;
    if (!(group instanceof Client) && (typeof group !== 'string' || group === '')) {
      throw new TypeError('HpcLevel: group must be a Client or a group file path');
    }
    super(structuredClone(HPC_LEVEL_MANIFEST), levelOptions);
    this.group = group;
    this.clientOptions = clientOptions ?? {};
    this.database = db ?? DEFAULT_DATABASE;
    this.space = new KeySpace(prefix ?? DEFAULT_LEVEL_PREFIX);
    this.timeoutMs = timeoutMs;
  }

  /** The Client this level uses (LEVEL_DATABASE_NOT_OPEN before open()). */
  get client(): Client {
    if (this.connected === undefined) throw new LevelError('Database is not open', 'LEVEL_DATABASE_NOT_OPEN');
    return this.connected;
  }

  async _open(): Promise<void> {
    const client = this.group instanceof Client ? this.group : await levelCall(() => Client.open(this.group as string, this.clientOptions));
    try {
      if (client.group.keyType !== 'bytes') {
        throw new LevelError(`HpcLevel needs a group of key type bytes, not ${client.group.keyType}`, 'LEVEL_NOT_SUPPORTED');
      }
      if (!client.group.servers.every((server) => server.databases.includes(this.database))) {
        throw new LevelError(`the group has no database ${this.database}`, 'LEVEL_DATABASE_NOT_OPEN');
      }
    } catch (error) {
      if (client !== this.group) await client.close();
      throw error;
    }
    this.connected = client;
  }

  async _close(): Promise<void> {
    const client = this.connected;
    this.connected = undefined;
    if (client !== undefined && client !== this.group) await client.close();
  }

  /** Per-request options of the hpckv calls. */
  private request(sync?: boolean): { db: string; timeoutMs?: number; sync?: boolean } {
    return {
      db: this.database,
      ...(this.timeoutMs === undefined ? {} : { timeoutMs: this.timeoutMs }),
      ...(sync === undefined ? {} : { sync }),
    };
  }

  async _get(key: LevelData, options: EncodingOptions): Promise<LevelData | undefined> {
    const value = await levelCall(() => this.client.get(this.space.key(key), this.request()));
    return value === undefined ? undefined : fromBytes(value, options.valueEncoding);
  }

  async _getMany(keys: LevelData[], options: EncodingOptions): Promise<Array<LevelData | undefined>> {
    const values = await levelCall(() => this.client.getMany(keys.map((key) => this.space.key(key)), this.request()));
    return values.map((value) => (value === undefined ? undefined : fromBytes(value, options.valueEncoding)));
  }

  async _has(key: LevelData): Promise<boolean> {
    return levelCall(() => this.client.exists(this.space.key(key), this.request()));
  }

  async _hasMany(keys: LevelData[]): Promise<boolean[]> {
    return levelCall(() => this.client.existsMany(keys.map((key) => this.space.key(key)), this.request()));
  }

  async _put(key: LevelData, value: LevelData, options: EncodingOptions): Promise<void> {
    await levelCall(() => this.client.put(this.space.key(key), dataBytes(value), this.request(options.sync)));
  }

  async _del(key: LevelData, options: EncodingOptions): Promise<void> {
    await levelCall(() => this.client.del(this.space.key(key), this.request(options.sync)));
  }

  /** Atomic per server; across servers one message per server, each committing on its own. */
  async _batch(operations: LevelBatchOperation[], options: { sync?: boolean }): Promise<void> {
    const ops: BatchOperation[] = operations.map((op) => (op.type === 'put'
      ? { type: 'put', key: this.space.key(op.key), value: dataBytes(op.value ?? '') }
      : { type: 'del', key: this.space.key(op.key) }));
    await levelCall(() => this.client.batch(ops, this.request(options.sync)));
  }

  _iterator(options: LevelIteratorOptions): HpcLevelIterator<this> {
    return new HpcLevelIterator(this, this, options);
  }

  async _clear(options: LevelClearOptions): Promise<void> {
    await levelCall(() => clearRange(this.client, this, options, this.request()));
  }

  /** A paged scan of stored keys (used by the iterators and by clear). */
  scan(range: RangeOptions, options: { reverse: boolean; limit: number; values: boolean; signal?: AbortSignal }): MergedScan<ScanEntry> {
    return this.client.iterate({ ...range, ...options, ...this.request() });
  }
}

import path from 'node:path';
import { PackedListChunks } from '../core/wire/packed-list.js';
import { expandPackedLists, isPackedRequest } from './packed-request.js';
import { validateDbRequest, validateScanRequest } from './validate-range-request.js';
import { ErrorCodes, HpckvError } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import { DATABASE_NAME_PATTERN, type DatabaseStartup, type DatabaseStats, type OpName, type OpReply, type StatReply } from '../core/protocol.js';
import { Database } from './database.js';
import { IndexOps } from './index-ops.js';
import { validateIndexGetRequest, validateIndexLookupRequest, validateIndexWriteRequest } from './validate-index-request.js';
import {
  validateBatchRequest, validateEmptyRequest, validateKeyRequest, validateKeysRequest, validateKeysWriteRequest,
  validateKeyWriteRequest, validatePutManyRequest, validatePutRequest, validateStatRequest, type ValidationContext,
} from './validate-request.js';

export interface ProviderOptions {
  /** Directory holding one subdirectory per database. */
  dataDir: string;
  /** Names of the databases this server owns (DATABASE_NAME_PATTERN, no repeats). */
  databases: readonly string[];
  limits: Limits;
  rank: number;
  service: string;
  /** Epoch of the group map this server was started with. */
  epoch: number;
  /** Test hook: counts of records (stores opened without a usable summary) wait for this. */
  countGate?: Promise<void>;
}

/**
 * Every operation the Provider answers: `shutdown` belongs to the server process, putMany parts
 * to the staged puts of a connection (server/staged-puts.ts), client-memory
 * operations to the region service and procedures to the job table (they need the connection
 * they came on, and the sandbox pool).
 */
export type ProviderOp = Exclude<OpName, 'shutdown' | 'putManyPart' | `region${string}` | `proc${string}`>;

type Handlers = { readonly [O in ProviderOp]: (body: unknown) => OpReply<O> | Promise<OpReply<O>> };

/**
 * Answers data-plane requests for one server rank, independent of any transport: the rpc layer
 * calls `handle(op, body)` for each decoded request and sends back what it returns or throws.
 *
 * Every request is validated before it reaches a store. Reads answer with plain values in the
 * same turn; writes answer with promises. Errors found before any I/O (validation, unknown op or
 * database, shutting down) are thrown synchronously; later ones reject the returned promise.
 */
export class Provider implements ValidationContext {
  readonly limits: Limits;
  readonly #options: ProviderOptions;
  readonly #databases: ReadonlyMap<string, Database>;
  readonly #handlers: ReadonlyMap<string, (body: unknown) => unknown>;
  readonly #startedAt = performance.now();
  #requests = 0;
  #closing: Promise<void> | null = null;

  private constructor(options: ProviderOptions, databases: ReadonlyMap<string, Database>) {
    this.#options = options;
    this.limits = options.limits;
    this.#databases = databases;
    this.#handlers = new Map(Object.entries(this.#makeHandlers()));
  }

  /** Opens every database under `dataDir` (creating missing ones); see Database.open for their stats. */
  static async open(options: ProviderOptions): Promise<Provider> {
    const names = new Set<string>();
    for (const name of options.databases) {
      if (typeof name !== 'string' || !DATABASE_NAME_PATTERN.test(name)) {
        throw new HpckvError(ErrorCodes.BAD_CONFIG, `invalid database name "${String(name)}"`, { details: { db: String(name) } });
      }
      if (names.has(name)) {
        throw new HpckvError(ErrorCodes.BAD_CONFIG, `database "${name}" is listed twice`, { details: { db: name } });
      }
      names.add(name);
    }
    const opened = await Promise.allSettled(
      [...names].map((name) => Database.open(path.join(options.dataDir, name), name, options.limits.writeGroupBytesMax, { countGate: options.countGate })));
    const failure = opened.find((result) => result.status === 'rejected');
    if (failure !== undefined) {
      await Promise.all(opened.map((result) => (result.status === 'fulfilled' ? result.value.close() : undefined)));
      throw failure.reason;
    }
    const databases = new Map<string, Database>();
    for (const result of opened) {
      if (result.status === 'fulfilled') databases.set(result.value.name, result.value);
    }
    return new Provider({ ...options, databases: [...names] }, databases);
  }

  /** Requests received since the provider opened, answered or failed. */
  get requests(): number {
    return this.#requests;
  }

  ownsDatabase(name: string): boolean {
    return this.#databases.has(name);
  }

  /** True once close() began: no new requests are taken. */
  get closing(): boolean {
    return this.#closing !== null;
  }

  /** The store of a database this server owns (HPCKV_ERR_UNKNOWN_DATABASE otherwise), for the region service. */
  database(name: string): Database {
    if (!this.#databases.has(name)) throw new HpckvError(ErrorCodes.UNKNOWN_DATABASE, `this server has no database "${name.slice(0, 100)}"`, { details: { db: name.slice(0, 100) } });
    return this.#db(name);
  }

  /**
   * Runs one request. `op` and `body` come straight off the wire and may be anything; the reply
   * is the op's OpReply (or a promise of it). Throws HpckvError.
   */
  handle(op: string, body: unknown): unknown {
    this.#requests++;
    if (this.#closing !== null) {
      throw new HpckvError(ErrorCodes.SHUTTING_DOWN, `server rank ${this.#options.rank} is shutting down`,
        { details: { rank: this.#options.rank } });
    }
    const handler = this.#handlers.get(op);
    if (handler === undefined) {
      const name = String(op).slice(0, 100);
      const why = op === 'shutdown' ? ' (shutdown is handled by the server process)' : '';
      throw new HpckvError(ErrorCodes.UNKNOWN_OP, `unknown operation "${name}"${why}`, { details: { op: name } });
    }
    return handler(body);
  }

  /** Stops taking requests, lets accepted writes finish and closes every store. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= Promise.all([...this.#databases.values()].map((db) => db.close())).then(() => undefined);
    return this.#closing;
  }

  #db(name: string): Database {
    // Validation has already checked ownership; this only narrows the type.
    const db = this.#databases.get(name);
    if (db === undefined) throw new HpckvError(ErrorCodes.INTERNAL, `database "${name}" vanished`);
    return db;
  }

  /** Answers at once, or once the databases still counting their records (opened after a crash) are done. */
  #stat(only: string | null): StatReply | Promise<StatReply> {
    const chosen = [...this.#databases.values()].filter((db) => only === null || only === db.name);
    const stats = chosen.map((db) => db.stats());
    const reply = (exact: readonly DatabaseStats[]): StatReply => {
      const databases: Record<string, DatabaseStats> = {};
      const startup: Record<string, DatabaseStartup> = {};
      chosen.forEach((db, i) => {
        databases[db.name] = exact[i]!;
        startup[db.name] = db.startup;
      });
      return { rank: this.#options.rank, uptimeMs: Math.round(performance.now() - this.#startedAt), requests: this.#requests, databases, startup };
    };
    return stats.every((s): s is DatabaseStats => !(s instanceof Promise)) ? reply(stats) : Promise.all(stats).then(reply);
  }

  #makeHandlers(): Handlers {
    const valueBytesMax = this.limits.valueBytesMax;
    const indexOps = new IndexOps(this.limits, (name) => this.#db(name));
    return {
      hello: (body) => {
        validateEmptyRequest(body);
        const { rank, service, epoch, databases } = this.#options;
        return { rank, service, epoch, databases: [...databases] };
      },
      put: (body) => {
        const r = validatePutRequest(body, this);
        return this.#db(r.db).put(r.key, r.value, r.sync);
      },
      get: (body) => {
        const r = validateKeyRequest(body, this);
        return this.#db(r.db).get(r.key);
      },
      del: (body) => {
        const r = validateKeyWriteRequest(body, this);
        return this.#db(r.db).del(r.key, r.sync);
      },
      exists: (body) => {
        const r = validateKeyRequest(body, this);
        return this.#db(r.db).exists(r.key);
      },
      length: (body) => {
        const r = validateKeyRequest(body, this);
        return this.#db(r.db).length(r.key);
      },
      batch: (body) => {
        const r = validateBatchRequest(body, this);
        return this.#db(r.db).write(r.keys, r.values, r.sync);
      },
      putMany: (body) => {
        const r = validatePutManyRequest(expandPackedLists(body, this.limits.batchEntriesMax), this);
        return this.#db(r.db).write(r.keys, r.values, r.sync);
      },
      first: (body) => this.#db(validateDbRequest(body, this).db).firstEntry({}, false),
      last: (body) => this.#db(validateDbRequest(body, this).db).firstEntry({}, true),
      next: (body) => {
        const r = validateKeyRequest(body, this);
        return this.#db(r.db).firstEntry({ gt: r.key }, false);
      },
      prev: (body) => {
        const r = validateKeyRequest(body, this);
        return this.#db(r.db).firstEntry({ lt: r.key }, true);
      },
      scan: async (body) => {
        const r = validateScanRequest(body, this);
        const page = await this.#db(r.db).scanPage(r.range, r);
        return {
          keys: new PackedListChunks(page.keys),
          values: page.values === null ? null : new PackedListChunks(page.values),
          done: page.done,
        };
      },
      count: (body) => {
        const r = validateScanRequest(body, this);
        return this.#db(r.db).countRange(r.range, this.limits.scanPageEntriesMax);
      },
      deleteRange: (body) => {
        const r = validateScanRequest(body, this);
        return this.#db(r.db).deleteRange(r.range, Math.min(this.limits.scanPageEntriesMax, this.limits.batchEntriesMax), r.sync);
      },
      getMany: (body) => {
        // A packed request gets a packed reply (one copy instead of a msgpack bin per value).
        const packed = isPackedRequest(body);
        const r = validateKeysRequest(expandPackedLists(body, this.limits.batchEntriesMax), this);
        const values = this.#db(r.db).getMany(r.keys);
        return packed ? new PackedListChunks(values) : values;
      },
      delMany: (body) => {
        const r = validateKeysWriteRequest(body, this);
        return this.#db(r.db).write(r.keys, new Array<null>(r.keys.length).fill(null), r.sync);
      },
      existsMany: (body) => {
        const r = validateKeysRequest(body, this);
        return this.#db(r.db).existsMany(r.keys);
      },
      putIfAbsent: (body) => {
        const r = validatePutRequest(body, this);
        return this.#db(r.db).putIfAbsent(r.key, r.value, r.sync);
      },
      append: (body) => {
        const r = validatePutRequest(body, this);
        return this.#db(r.db).append(r.key, r.value, r.sync, valueBytesMax);
      },
      indexWrite: (body) => indexOps.write(validateIndexWriteRequest(body, this)),
      indexLookup: async (body) => {
        const page = await indexOps.lookup(validateIndexLookupRequest(body, this));
        return { keys: new PackedListChunks(page.keys), values: new PackedListChunks(page.values), done: page.done };
      },
      indexGet: (body) => new PackedListChunks(indexOps.get(validateIndexGetRequest(body, this))),
      stat: (body) => this.#stat(validateStatRequest(body, this).db),
    };
  }
}

import path from 'node:path';
import { PackedListChunks } from '../core/wire/packed-list.js';
import { ErrorCodes, HpckvError } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import { DATABASE_NAME_PATTERN, type DatabaseStartup, type DatabaseStats, type OpReply, type StatReply } from '../core/protocol/messages.js';
import type { ServiceOps, ValidRequests } from '../core/protocol/op-table.js';
import type { ValidationContext } from '../core/protocol/validate/request-fields.js';
import { createRequestDispatch } from './request-dispatch.js';
import { checkDb } from '../core/protocol/field-checks.js';
import { Database } from './database.js';
import { IndexOps } from './index-ops.js';

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
 * Every operation the Provider answers: the ops of the 'kv' service in the protocol table
 * (core/protocol/op-table.ts). `shutdown` belongs to the server process, putMany parts to the
 * staged puts of a connection (server/staged-puts.ts), client-memory operations to the region
 * service and procedures to the job table (they need the connection they came on, and the
 * sandbox pool).
 */
export type ProviderOp = ServiceOps<'kv'>;

type Handlers = { readonly [O in ProviderOp]: (request: ValidRequests[O]) => OpReply<O> | Promise<OpReply<O>> };

/**
 * Answers data-plane requests for one server rank, independent of any transport: the server's
 * dispatch (server/request-dispatch.ts) checks each request by its op's table entry and calls
 * `answer(op, request)`; `handle(op, body)` runs the same dispatch with this provider alone.
 *
 * Every request is validated before it reaches a store. Reads answer with plain values in the
 * same turn; writes answer with promises. Errors found before any I/O (validation, unknown op or
 * database, shutting down) are thrown synchronously; later ones reject the returned promise.
 */
export class Provider implements ValidationContext {
  readonly limits: Limits;
  readonly #options: ProviderOptions;
  readonly #databases: ReadonlyMap<string, Database>;
  readonly #handlers: Handlers;
  readonly #dispatch: (op: unknown, body: unknown, connectionId: number) => unknown;
  readonly #startedAt = performance.now();
  #requests = 0;
  #closing: Promise<void> | null = null;

  private constructor(options: ProviderOptions, databases: ReadonlyMap<string, Database>) {
    this.#options = options;
    this.limits = options.limits;
    this.#databases = databases;
    this.#handlers = this.#makeHandlers();
    this.#dispatch = createRequestDispatch({
      rank: options.rank, testHooks: false, validation: this, closing: () => this.closing,
      services: { kv: (op, request) => this.answer(op, request) },
    });
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
    return this.#db(checkDb(name, this));
  }

  /**
   * Runs one request of the kv service with nothing in front of this provider (tests, the stage
   * profiler): `op` and `body` may be anything, as off the wire; other services' ops are
   * UNKNOWN_OP. The reply is the op's OpReply (or a promise of it). Throws HpckvError.
   */
  handle(op: string, body: unknown): unknown {
    return this.#dispatch(op, body, 0);
  }

  /** Answers a checked request (the dispatch has checked the body and that the provider is open). */
  answer<O extends ProviderOp>(op: O, request: ValidRequests[O]): OpReply<O> | Promise<OpReply<O>> {
    this.#requests++;
    return this.#handlers[op](request);
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
      hello: () => {
        const { rank, service, epoch, databases } = this.#options;
        return { rank, service, epoch, databases: [...databases] };
      },
      put: (r) => this.#db(r.db).put(r.key, r.value, r.sync),
      get: (r) => this.#db(r.db).get(r.key),
      del: (r) => this.#db(r.db).del(r.key, r.sync),
      exists: (r) => this.#db(r.db).exists(r.key),
      length: (r) => this.#db(r.db).length(r.key),
      batch: (r) => this.#db(r.db).write(r.keys, r.values, r.sync),
      putMany: (r) => this.#db(r.db).write(r.keys, r.values, r.sync),
      first: (r) => this.#db(r.db).firstEntry({}, false),
      last: (r) => this.#db(r.db).firstEntry({}, true),
      next: (r) => this.#db(r.db).firstEntry({ gt: r.key }, false),
      prev: (r) => this.#db(r.db).firstEntry({ lt: r.key }, true),
      scan: async (r) => {
        const page = await this.#db(r.db).scanPage(r.range, r);
        return {
          keys: new PackedListChunks(page.keys),
          values: page.values === null ? null : new PackedListChunks(page.values),
          done: page.done,
        };
      },
      count: (r) => this.#db(r.db).countRange(r.range, this.limits.scanPageEntriesMax),
      deleteRange: (r) => this.#db(r.db).deleteRange(r.range, Math.min(this.limits.scanPageEntriesMax, this.limits.batchEntriesMax), r.sync),
      getMany: (r) => {
        // A packed request gets a packed reply (one copy instead of a msgpack bin per value).
        const values = this.#db(r.db).getMany(r.keys);
        return r.packed ? new PackedListChunks(values) : values;
      },
      delMany: (r) => this.#db(r.db).write(r.keys, new Array<null>(r.keys.length).fill(null), r.sync),
      existsMany: (r) => this.#db(r.db).existsMany(r.keys),
      putIfAbsent: (r) => this.#db(r.db).putIfAbsent(r.key, r.value, r.sync),
      append: (r) => this.#db(r.db).append(r.key, r.value, r.sync, valueBytesMax),
      indexWrite: (r) => indexOps.write(r),
      indexLookup: async (r) => {
        const page = await indexOps.lookup(r);
        return { keys: new PackedListChunks(page.keys), values: new PackedListChunks(page.values), done: page.done };
      },
      indexGet: (r) => new PackedListChunks(indexOps.get(r)),
      stat: (r) => this.#stat(r.db),
    };
  }
}

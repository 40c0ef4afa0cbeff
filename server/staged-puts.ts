import { ErrorCodes, HpckvError } from '../core/errors.js';
import type { Limits } from '../core/limits.js';
import { checkEntries, limitExceeded } from '../core/protocol/field-checks.js';
import type { Database } from './database.js';
import type { CommitBatch } from './group-commit.js';
import type { ValidPutManyPart } from '../core/protocol/validate/put-many-part.js';
import { badRequest, type ValidationContext } from '../core/protocol/validate/request-fields.js';

/** What staged puts need of the server: validation context and its databases. */
export interface StagingContext extends ValidationContext {
  readonly limits: Limits;
  database(name: string): Database;
}

/** One putMany whose parts are arriving. */
interface Staging {
  db: string;
  database: Database;
  sync: boolean;
  batch: CommitBatch;
  /** Copies of the keys (the parts' frames are not kept alive for them); values live in `batch` only. */
  keys: Buffer[];
  valueSizes: number[];
  bytes: number;
  /** Index the next part must carry. */
  nextPart: number;
}

/**
 * A putMany too large for one message arrives as parts (putManyPart, see `putManyPartBytesMax`):
 * each part is validated and its puts staged into the staging's own LevelDB batch as soon as it
 * arrives, while the next parts are still in transit; the part marked `last` commits the whole
 * batch atomically (Database.commitStaged). A bad part discards its staging: nothing of it is
 * ever written, and its later parts fail too (a part after the first needs its staging open).
 * Stagings belong to the connection they arrived on and are dropped when it closes.
 *
 * Limits: the parts of one staging together obey batchEntriesMax and frameBytesMax (as the
 * single message would), and one connection holds at most putManyStagingsPerConnectionMax.
 */
export class StagedPuts {
  readonly #context: StagingContext;
  readonly #byConnection = new Map<number, Map<number, Staging>>();

  constructor(context: StagingContext) {
    this.#context = context;
  }

  /** Stages one checked part; resolves (null) once staged, or for the last part once the putMany committed. */
  handle(request: ValidPutManyPart, connectionId: number): null | Promise<null> {
    const { staging: stagingId, part, last, writes } = request;
    const stagings = this.#stagingsOf(connectionId);
    let staging = stagings.get(stagingId);
    try {
      if (writes instanceof HpckvError) throw writes;
      if (part === 0) {
        if (staging !== undefined) throw badRequest(`staging ${stagingId} is already open on this connection`, { staging: stagingId });
        staging = this.#open(stagings, stagingId, writes.db, writes.sync);
      } else if (staging === undefined || staging.nextPart !== part) {
        throw badRequest(`part ${part} of staging ${stagingId}: the staging is not open at that part (an earlier part failed, or was never sent)`,
          { staging: stagingId, part });
      } else if (staging.db !== writes.db || staging.sync !== writes.sync) {
        throw badRequest(`part ${part} of staging ${stagingId} names another database or sync than its first part`, { staging: stagingId, part });
      }
      this.#stage(staging, stagingId, writes.keys, writes.values as Buffer[]);
    } catch (error) {
      if (staging !== undefined) this.#discard(stagings, stagingId, staging);
      throw error;
    }
    if (!last) return null;
    stagings.delete(stagingId);
    return staging.database.commitStaged(staging.keys, staging.valueSizes, staging.batch, staging.bytes, staging.sync);
  }

  /** Drops the stagings of a closed connection (their batches were never written). */
  onConnectionClose(connectionId: number): void {
    const stagings = this.#byConnection.get(connectionId);
    if (stagings === undefined) return;
    this.#byConnection.delete(connectionId);
    for (const staging of stagings.values()) void staging.batch.close();
  }

  /** Stagings open on all connections (for tests and diagnostics). */
  get openStagings(): number {
    let open = 0;
    for (const stagings of this.#byConnection.values()) open += stagings.size;
    return open;
  }

  #stagingsOf(connectionId: number): Map<number, Staging> {
    let stagings = this.#byConnection.get(connectionId);
    if (stagings === undefined) {
      stagings = new Map();
      this.#byConnection.set(connectionId, stagings);
    }
    return stagings;
  }

  #open(stagings: Map<number, Staging>, stagingId: number, db: string, sync: boolean): Staging {
    const max = this.#context.limits.putManyStagingsPerConnectionMax;
    if (stagings.size >= max) {
      throw new HpckvError(ErrorCodes.TOO_MANY_IN_FLIGHT,
        `connection has ${stagings.size} putMany stagings open, putManyStagingsPerConnectionMax is ${max}`,
        { details: { limit: 'putManyStagingsPerConnectionMax', max } });
    }
    const database = this.#context.database(db);
    const staging: Staging = { db, database, sync, batch: database.stagingBatch(), keys: [], valueSizes: [], bytes: 0, nextPart: 0 };
    stagings.set(stagingId, staging);
    return staging;
  }

  #stage(staging: Staging, stagingId: number, keys: readonly Buffer[], values: readonly Buffer[]): void {
    const { frameBytesMax } = this.#context.limits;
    const entries = staging.keys.length + keys.length;
    checkEntries(entries, this.#context.limits, `putMany staging ${stagingId}`, { staging: stagingId });
    let bytes = staging.bytes;
    for (let i = 0; i < keys.length; i++) bytes += keys[i]!.length + values[i]!.length;
    if (bytes > frameBytesMax) {
      // More than one message may carry.
      throw limitExceeded(ErrorCodes.BATCH_TOO_LARGE, 'frameBytesMax', `putMany staging ${stagingId}`, bytes, frameBytesMax, 'bytes', { staging: stagingId });
    }
    for (let i = 0; i < keys.length; i++) {
      staging.batch.put(keys[i]!, values[i]!);
      staging.keys.push(Buffer.from(keys[i]!));
      staging.valueSizes.push(values[i]!.length);
    }
    staging.bytes = bytes;
    staging.nextPart++;
  }

  #discard(stagings: Map<number, Staging>, stagingId: number, staging: Staging): void {
    if (stagings.get(stagingId) === staging) stagings.delete(stagingId);
    void staging.batch.close();
  }
}

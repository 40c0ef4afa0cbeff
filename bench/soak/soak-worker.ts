import type { Client } from '../../client/client.js';
import { ErrorCodes, isHpckvError } from '../../core/errors.js';
import type { ProcedureSpec } from '../../core/procedure-spec.js';
import { seededRandom } from '../../examples/seeded-random.js';

/** The kinds of operation a soak worker does, each checked against its model. */
export const SOAK_OPS = ['put', 'get', 'del', 'putMany', 'putIfAbsent', 'scan', 'filter', 'reduce', 'verify'] as const;
export type SoakOp = (typeof SOAK_OPS)[number];

/** A count (or a time) of 0 for every kind of operation. */
export function zeroOpCounts(): Record<SoakOp, number> {
  return Object.fromEntries(SOAK_OPS.map((op) => [op, 0])) as Record<SoakOp, number>;
}

/** Chance of each operation per step (verify runs on its own clock, not by chance). */
const WEIGHTS: ReadonlyArray<[Exclude<SoakOp, 'verify'>, number]> = [
  ['put', 0.34], ['get', 0.34], ['del', 0.06], ['putMany', 0.1], ['putIfAbsent', 0.06], ['scan', 0.08], ['filter', 0.01], ['reduce', 0.01],
];
const PUT_MANY_ENTRIES = 16;
const SCAN_ENTRIES = 64;
const VALUE_BYTES_MIN = 16;
/** Problems kept per worker for the report (all are counted). */
const PROBLEMS_KEPT = 20;

const LONG_VALUES: ProcedureSpec = { kind: 'filter', source: '(key, value, args) => value.length >= args.minBytes' };
const SIZE_STATS: ProcedureSpec = {
  kind: 'reduce',
  source: `({
    init: () => ({ n: 0, bytes: 0 }),
    step: (acc, key, value) => { acc.n += 1; acc.bytes += value.length; return acc; },
    combine: (a, b) => ({ n: a.n + b.n, bytes: a.bytes + b.bytes }),
  })`,
};

export interface SoakWorkerOptions {
  id: number;
  client: Client;
  /** Keys this worker owns (no other worker touches them), so its model is exact. */
  keys: number;
  valueBytesMax: number;
  seed: number;
}

/**
 * One soak worker: a sequence of operations on keys only it uses, each checked against a model
 * of what the store must hold (the model changes when a write is acknowledged), and a full
 * verification of every key it owns on its own clock. Every mismatch and every error is a
 * problem: nothing is injected, so the store must answer everything, exactly.
 */
export class SoakWorker {
  readonly id: number;
  readonly counts = zeroOpCounts();
  /** Milliseconds spent in each kind of operation. */
  readonly elapsedMs = zeroOpCounts();
  problems = 0;
  readonly problemSamples: string[] = [];
  readonly #client: Client;
  readonly #model: Array<Buffer | undefined>;
  readonly #random: () => number;
  readonly #valueBytesMax: number;
  readonly #prefix: string;
  #version = 0;

  constructor(options: SoakWorkerOptions) {
    this.id = options.id;
    this.#client = options.client;
    this.#model = new Array<Buffer | undefined>(options.keys).fill(undefined);
    this.#random = seededRandom(options.seed);
    this.#valueBytesMax = options.valueBytesMax;
    this.#prefix = `soak/${String(options.id).padStart(3, '0')}/`;
  }

  /** Runs until `stop()` says so, verifying everything every `verifyEveryMs` and once more at the end. */
  async run(stop: () => boolean, verifyEveryMs: number): Promise<void> {
    let nextVerify = Date.now() + verifyEveryMs;
    while (!stop()) {
      await this.#guarded(this.#pick());
      if (Date.now() >= nextVerify) {
        await this.#guarded('verify');
        nextVerify = Date.now() + verifyEveryMs;
      }
    }
    await this.#guarded('verify');
  }

  #pick(): Exclude<SoakOp, 'verify'> {
    let roll = this.#random();
    for (const [op, weight] of WEIGHTS) {
      if (roll < weight) return op;
      roll -= weight;
    }
    return 'get';
  }

  async #guarded(op: SoakOp): Promise<void> {
    const started = performance.now();
    try {
      await this.#do(op);
    } catch (error) {
      this.#problem(`${op}: ${isHpckvError(error) ? `${error.code} ${error.message}` : String(error)}`);
    }
    this.counts[op]++;
    this.elapsedMs[op] += performance.now() - started;
  }

  #problem(what: string): void {
    this.problems++;
    if (this.problemSamples.length < PROBLEMS_KEPT) this.problemSamples.push(`worker ${this.id}: ${what}`);
  }

  #key(n: number): string {
    return `${this.#prefix}${String(n).padStart(6, '0')}`;
  }

  /** The number of one of this worker's keys. */
  #numberOf(key: Uint8Array): number {
    return Number(Buffer.from(key).toString('latin1').slice(this.#prefix.length));
  }

  #index(): number {
    return Math.floor(this.#random() * this.#model.length);
  }

  /** A value that names its key and version, so a misplaced or stale one is recognised. */
  #value(n: number): Buffer {
    const length = VALUE_BYTES_MIN + Math.floor(this.#random() * (this.#valueBytesMax - VALUE_BYTES_MIN));
    const value = Buffer.alloc(length, 0x61 + (this.#version % 26));
    value.write(`${this.#key(n)}#${this.#version++}|`, 'latin1');
    return value;
  }

  #expect(n: number, got: Uint8Array | undefined, what: string): void {
    const want = this.#model[n];
    const same = got === undefined ? want === undefined : want !== undefined && Buffer.compare(Buffer.from(got.buffer, got.byteOffset, got.byteLength), want) === 0;
    if (!same) this.#problem(`${what} ${this.#key(n)}: read ${got === undefined ? 'nothing' : `${got.length} B`}, expected ${want === undefined ? 'nothing' : `${want.length} B`}`);
  }

  async #do(op: SoakOp): Promise<void> {
    const client = this.#client;
    switch (op) {
      case 'put': {
        const n = this.#index();
        const value = this.#value(n);
        await client.put(this.#key(n), value);
        this.#model[n] = value;
        return;
      }
      case 'get': {
        const n = this.#index();
        this.#expect(n, await client.get(this.#key(n)), 'get');
        return;
      }
      case 'del': {
        const n = this.#index();
        await client.del(this.#key(n));
        this.#model[n] = undefined;
        return;
      }
      case 'putMany': {
        const chosen = [...new Set(Array.from({ length: PUT_MANY_ENTRIES }, () => this.#index()))];
        const values = chosen.map((n) => this.#value(n));
        await client.putMany(chosen.map((n, i) => [this.#key(n), values[i]!] as const));
        chosen.forEach((n, i) => { this.#model[n] = values[i]; });
        return;
      }
      case 'putIfAbsent': {
        const n = this.#index();
        const value = this.#value(n);
        try {
          await client.putIfAbsent(this.#key(n), value);
          if (this.#model[n] !== undefined) this.#problem(`putIfAbsent ${this.#key(n)} overwrote a present key`);
          this.#model[n] = value;
        } catch (error) {
          if (!isHpckvError(error, ErrorCodes.KEY_EXISTS)) throw error;
          if (this.#model[n] === undefined) this.#problem(`putIfAbsent ${this.#key(n)}: KEY_EXISTS for an absent key`);
        }
        return;
      }
      case 'scan': {
        const from = this.#index();
        const seen: number[] = [];
        for await (const [key, value] of client.iterate({ gte: this.#key(from), lt: `${this.#prefix}~`, limit: SCAN_ENTRIES })) {
          const n = this.#numberOf(key as Uint8Array);
          seen.push(n);
          this.#expect(n, value as Uint8Array, 'scan');
        }
        const want: number[] = [];
        for (let n = from; n < this.#model.length && want.length < SCAN_ENTRIES; n++) if (this.#model[n] !== undefined) want.push(n);
        if (seen.join() !== want.join()) this.#problem(`scan from ${this.#key(from)}: ${seen.length} keys, expected ${want.length} (or another order)`);
        return;
      }
      case 'filter': {
        const minBytes = Math.floor(this.#random() * this.#valueBytesMax);
        const results = await (await client.execute(LONG_VALUES, { gte: this.#prefix, lt: `${this.#prefix}~`, args: { minBytes } })).wait() as Array<[Buffer, Buffer]>;
        const got = results.map(([key]) => key.toString('latin1')).sort();
        const want = this.#model.flatMap((value, n) => (value !== undefined && value.length >= minBytes ? [this.#key(n)] : []));
        if (got.join() !== want.join()) this.#problem(`filter minBytes=${minBytes}: ${got.length} matches, expected ${want.length}`);
        return;
      }
      case 'reduce': {
        const got = await (await client.execute(SIZE_STATS, { gte: this.#prefix, lt: `${this.#prefix}~` })).wait() as { n: number; bytes: number };
        const present = this.#model.filter((value): value is Buffer => value !== undefined);
        const want = { n: present.length, bytes: present.reduce((sum, value) => sum + value.length, 0) };
        if (got.n !== want.n || got.bytes !== want.bytes) this.#problem(`reduce: ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
        return;
      }
      case 'verify': {
        // Every key this worker owns, by point reads in batches and by one full scan.
        const batch = 500;
        for (let first = 0; first < this.#model.length; first += batch) {
          const ns = Array.from({ length: Math.min(batch, this.#model.length - first) }, (_, i) => first + i);
          const values = await client.getMany(ns.map((n) => this.#key(n)));
          ns.forEach((n, i) => this.#expect(n, values[i], 'verify getMany'));
        }
        let count = 0;
        for await (const [key, value] of client.iterate({ gte: this.#prefix, lt: `${this.#prefix}~` })) {
          const n = this.#numberOf(key as Uint8Array);
          this.#expect(n, value as Uint8Array, 'verify scan');
          count++;
        }
        const want = this.#model.filter((value) => value !== undefined).length;
        if (count !== want) this.#problem(`verify scan: ${count} keys, expected ${want}`);
        return;
      }
    }
  }
}

import { isHpckvError } from '../index.js';
import { withLocalGroup } from './local-group.js';
import { ProgressBar } from './progress-bar.js';
import { seededRandom } from './seeded-random.js';

export interface MixedWorkloadOptions {
  servers: number;
  /** Operations in the mixed workload. */
  operations: number;
}

/**
 * `hpckv mixed`: an embedded group of local server processes, a mixed
 * workload checked against a model of what the store must hold, then per-server statistics.
 */
export async function runMixedWorkload(options: MixedWorkloadOptions): Promise<void> {
  process.stdout.write(`Starting ${options.servers} hpckv servers ...\n`);
  await withLocalGroup('mixed', { servers: options.servers, output: 'pipe', databases: ['default', 'log'] }, async ({ client, dir }) => {
    process.stdout.write(`... in ${dir}\n`);
    const model = new Map<string, string>();
    const random = seededRandom(42);
    const counts = { put: 0, get: 0, del: 0, batch: 0, putIfAbsent: 0, append: 0, conflicts: 0 };
    const started = process.hrtime.bigint();
    const bar = new ProgressBar('mixed workload', options.operations);
    // 64 operations in flight at all times. A key is never used by two operations in flight at
    // once, so the model (updated when an operation is issued) is what the store must hold.
    const inFlight = new Set<string>();
    let issued = 0;
    let done = 0;
    const claim = (make: () => string): string | undefined => {
      const key = make();
      if (inFlight.has(key)) return undefined;
      inFlight.add(key);
      return key;
    };
    const operation = (n: number): Promise<void> | undefined => {
      const roll = random();
      if (roll < 0.82) {
        const key = claim(() => `key-${Math.floor(random() * 5000)}`);
        if (key === undefined) return undefined;
        let request: Promise<void>;
        if (roll < 0.35) {
          const value = `value-${n}-${'x'.repeat(Math.floor(random() * 200))}`;
          model.set(key, value);
          counts.put++;
          request = client.put(key, value);
        } else if (roll < 0.75) {
          counts.get++;
          const expected = model.get(key);
          request = client.get(key).then((value) => {
            if (value?.toString() !== expected) throw new Error(`${key}: read ${String(value)}, expected ${String(expected)}`);
          });
        } else {
          model.delete(key);
          counts.del++;
          request = client.del(key);
        }
        return request.finally(() => inFlight.delete(key));
      }
      if (roll < 0.9) {
        const keys = Array.from({ length: 32 }, (_, j) => `batch-${n}-${j}`);
        for (const k of keys) model.set(k, k);
        counts.batch++;
        return client.batch(keys.map((k) => ({ type: 'put' as const, key: k, value: k })));
      }
      if (roll < 0.95) {
        const key = claim(() => `once-${Math.floor(random() * 500)}`);
        if (key === undefined) return undefined;
        const value = `first-${n}`;
        const fresh = !model.has(key);
        if (fresh) model.set(key, value);
        counts.putIfAbsent++;
        return client.putIfAbsent(key, value).catch((error: unknown) => {
          if (fresh || !isHpckvError(error, 'HPCKV_ERR_KEY_EXISTS')) throw error;
          counts.conflicts++;
        }).finally(() => inFlight.delete(key));
      }
      counts.append++;
      return client.append('events', `e${n};`, { db: 'log' }).then(() => undefined);
    };
    const worker = async (): Promise<void> => {
      while (issued < options.operations) {
        const request = operation(issued);
        if (request === undefined) continue;
        issued++;
        await request;
        done++;
        bar.update(done);
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    bar.finish();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const check = [...model.keys()];
    const values = await client.getMany(check);
    const wrong = check.filter((key, i) => values[i]?.toString() !== model.get(key)).length;
    const stats = await client.stat();
    process.stdout.write(`\n${options.operations} operations in ${seconds.toFixed(2)} s ` +
      `(${Math.round(options.operations / seconds).toLocaleString('en-US')} ops/s): ` +
      `${counts.put} put, ${counts.get} get, ${counts.del} del, ${counts.batch} batches of 32, ` +
      `${counts.putIfAbsent} write-once (${counts.conflicts} refused as existing), ${counts.append} appends\n`);
    process.stdout.write(`verified ${check.length} keys against the model: ${wrong === 0 ? 'all correct' : `${wrong} WRONG`}\n\n`);
    process.stdout.write('server  database  records     key bytes   value bytes  requests\n');
    for (const stat of stats) {
      for (const [name, db] of Object.entries(stat.databases)) {
        process.stdout.write(`${String(stat.rank).padStart(6)}  ${name.padEnd(8)}  ${String(db.records).padStart(7)}  ` +
          `${String(db.keyBytes).padStart(12)}  ${String(db.valueBytes).padStart(12)}  ${String(stat.requests).padStart(8)}\n`);
      }
    }
    if (wrong !== 0) throw new Error(`${wrong} keys read back wrong`);
  });
  process.stdout.write('\nservers shut down cleanly\n');
}

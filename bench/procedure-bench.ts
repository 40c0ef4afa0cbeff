import { parseArgs } from 'node:util';
import { Packr } from 'msgpackr';
import { SandboxPool } from '../procedures/sandbox-pool.js';
import { formatTable, type BenchReport, type BenchRow } from './kv-bench.js';
import { machineInfo } from './machine.js';
import { printReport, runIfMain } from './bench-main.js';
import { benchKey } from './bench-records.js';

/**
 * `npm run bench:procedure`: a 1%-selectivity filter over msgpack values of about 256 bytes, in
 * batches of 1000, through the sandbox (one job, batches one after another, hpckv.decodeMsgpack
 * inside) against the same filter as plain JS on the host over the same batches (msgpackr's
 * unpack). ratio = sandbox / host records/s.
 */
const BATCH = 1000;
const FILTER = '(key, value, args) => hpckv.decodeMsgpack(value).group === args.group';

export async function runProcedureBench(options: { records: number }): Promise<BenchReport> {
  const packr = new Packr({ useRecords: false });
  const batches: Array<{ keys: Uint8Array[]; values: Uint8Array[] }> = [];
  for (let b = 0; b < options.records; b += BATCH) {
    const keys: Uint8Array[] = [];
    const values: Uint8Array[] = [];
    for (let i = b; i < Math.min(b + BATCH, options.records); i++) {
      keys.push(benchKey(i));
      values.push(packr.pack({ id: i, group: i % 100, name: `record-${i}`, tags: ['a', 'b', String(i % 7)], score: i / 3,
        payload: 'p'.repeat(180) }));
    }
    batches.push({ keys, values });
  }
  const args = { group: 42 };
  const pool = await SandboxPool.create({ isolates: 1, isolateMemoryMbMax: 128, compiledProceduresMax: 4, keyType: 'bytes' });
  const job = await pool.startJob(await pool.register({ kind: 'filter', source: FILTER }), args, { cpuMsMax: 600_000, wallMsMax: 10_000 });
  const hostFilter = (_key: Uint8Array, value: Uint8Array): boolean => (packr.unpack(value) as { group: number }).group === args.group;
  let sandboxPassed = 0;
  let hostPassed = 0;
  let sandboxNs = 0n;
  let hostNs = 0n;
  for (let round = 0; round < 2; round++) { // round 0 warms both sides up
    sandboxPassed = 0;
    hostPassed = 0;
    sandboxNs = 0n;
    hostNs = 0n;
    for (const batch of batches) {
      let start = process.hrtime.bigint();
      sandboxPassed += (await job.filter(batch)).length;
      sandboxNs += process.hrtime.bigint() - start;
      start = process.hrtime.bigint();
      const passed: number[] = [];
      for (let i = 0; i < batch.keys.length; i++) if (hostFilter(batch.keys[i]!, batch.values[i]!)) passed.push(i);
      hostPassed += passed.length;
      await Promise.resolve();
      hostNs += process.hrtime.bigint() - start;
    }
  }
  job.dispose();
  await pool.close();
  if (sandboxPassed !== hostPassed) throw new Error(`sandbox passed ${sandboxPassed}, host ${hostPassed}`);
  const rate = (ns: bigint): number => options.records / (Number(ns) / 1e9);
  const rows: BenchRow[] = [{
    id: 'filter-1pct-msgpack', what: `1% filter over ${options.records} msgpack values (~256 B), batches of ${BATCH}`,
    value: rate(sandboxNs), unit: 'records/s', baseline: rate(hostNs), ratio: rate(sandboxNs) / rate(hostNs),
    extra: { passed: sandboxPassed, cpuMs: Math.round(job.cpuMs) },
  }];
  return { machine: machineInfo(), servers: 0, transport: 'isolated-vm sandbox vs host JS', startedAt: new Date().toISOString(), rows };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'string' }, records: { type: 'string' } } });
  const report = await runProcedureBench({ records: Number(values.records ?? 200_000) });
  await printReport(formatTable(report).replace('hpckv kv bench', 'hpckv procedure bench (hpckv = sandbox, raw = host JS)'), report, values.json);
}

runIfMain(import.meta.url, main);

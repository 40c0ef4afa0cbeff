import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '../client/client.js';
import { launchLocalGroup } from '../server/launcher.js';
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

export async function runProcedureBench(options: { records: number; groupRecords: number }): Promise<BenchReport> {
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
  if (options.groupRecords > 0) rows.push(...await serverSideVsFetch(options.groupRecords));
  return { machine: machineInfo(), servers: 2, transport: 'isolated-vm sandbox vs host JS; 2 servers over unix', startedAt: new Date().toISOString(), rows };
}

/** The value of record i (about 256 bytes of msgpack; record i is in group i % 100). */
function recordValue(packr: Packr, i: number): Uint8Array {
  return packr.pack({ id: i, group: i % 100, name: `record-${i}`, tags: ['a', 'b', String(i % 7)], score: i / 3, payload: 'p'.repeat(180) });
}

/**
 * The same 1% filter over a 2-server group: run next to the data (client.execute) against
 * fetching every record to the client and filtering there (client.iterate), in time and in bytes
 * of keys and values that reach the client.
 */
async function serverSideVsFetch(records: number): Promise<BenchRow[]> {
  const packr = new Packr({ useRecords: false });
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-procedure-bench-'));
  const group = await launchLocalGroup({ servers: 2, dir });
  const client = await Client.open(group.groupFile);
  try {
    process.stderr.write(`loading ${records} records of ~256 B into 2 servers ...\n`);
    for (let b = 0; b < records; b += BATCH) {
      await client.putMany(Array.from({ length: Math.min(BATCH, records - b) }, (_, j) => [benchKey(b + j), recordValue(packr, b + j)] as const));
    }
    const spec = { kind: 'filter' as const, source: FILTER };
    const args = { group: 42 };
    await (await client.execute(spec, { args, lt: benchKey(0) })).wait(); // ships the procedure, warms the sandboxes
    let best = { server: 0, fetch: 0, serverBytes: 0, fetchBytes: 0, matches: 0 };
    for (let round = 0; round < 2; round++) {
      let start = process.hrtime.bigint();
      const matches = await (await client.execute(spec, { args })).wait() as Array<[Uint8Array, Buffer]>;
      const serverSeconds = Number(process.hrtime.bigint() - start) / 1e9;
      let serverBytes = 0;
      for (const [key, value] of matches) serverBytes += key.length + value.length;
      start = process.hrtime.bigint();
      let fetched = 0;
      let fetchBytes = 0;
      for await (const [key, value] of client.iterate()) {
        fetchBytes += (key as Uint8Array).length + value!.length;
        if ((packr.unpack(value!) as { group: number }).group === args.group) fetched++;
      }
      const fetchSeconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (fetched !== matches.length) throw new Error(`server-side filter found ${matches.length}, the client ${fetched}`);
      const server = records / serverSeconds;
      const fetch = records / fetchSeconds;
      if (server / fetch > best.server / Math.max(best.fetch, 1e-9) || round === 0) best = { server, fetch, serverBytes, fetchBytes, matches: matches.length };
    }
    return [
      { id: 'filter-server-side', what: `1% filter over ${records} records on 2 servers: execute vs fetch everything and filter in the client`,
        value: best.server, unit: 'records/s', baseline: best.fetch, ratio: best.server / best.fetch, extra: { matches: best.matches } },
      { id: 'filter-bytes-to-client', what: 'bytes of keys and values reaching the client: execute vs fetch everything',
        value: best.serverBytes, unit: 'bytes', baseline: best.fetchBytes, ratio: best.fetchBytes / best.serverBytes },
    ];
  } finally {
    await client.close();
    await group.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'string' }, records: { type: 'string' }, 'group-records': { type: 'string' }, quick: { type: 'boolean' } } });
  const report = await runProcedureBench({
    records: Number(values.records ?? (values.quick ? 20_000 : 200_000)),
    groupRecords: Number(values['group-records'] ?? (values.quick ? 20_000 : 1_000_000)),
  });
  await printReport(formatTable(report).replace('hpckv kv bench', 'hpckv procedure bench (hpckv = sandbox, raw = host JS)'), report, values.json);
}

runIfMain(import.meta.url, main);

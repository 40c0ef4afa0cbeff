import { ClassicLevel } from 'classic-level';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '../client/client.js';
import { withLocalGroup } from '../examples/local-group.js';
import { Packr } from 'msgpackr';
import { SandboxPool } from '../procedures/sandbox-pool.js';
import { formatTable, type BenchReport, type BenchRow } from './bench-report.js';
import { machineInfo } from './machine.js';
import { printReport, runIfMain } from './bench-main.js';
import { benchKey } from './bench-records.js';

/**
 * `npm run bench:procedure`: a 1%-selectivity filter over msgpack values of about 256 bytes, in
 * batches of 1000, through the sandbox (one job, hpckv.decodeMsgpack inside, two batches queued
 * at the sandbox process as a server runs a job) against the same filter as plain JS on the host
 * over the same batches (msgpackr's unpack). ratio = sandbox / host records/s; `oneAtATimeRatio`
 * is the same with each batch's round trip awaited before the next goes.
 */
const BATCH = 1000;
const FILTER = '(key, value, args) => hpckv.decodeMsgpack(value).group === args.group';
/** The same test reading only the field it needs (the other fields are skipped, not decoded). */
const FIELD_FILTER = '(key, value, args) => hpckv.msgpackGet(value, "group") === args.group';
/** The filter's argument: group 42 of 100, so 1% of the records pass. */
export const FILTER_ARGS = { group: 42 };
/** The filter decoding each value, and the same filter reading its one field. */
export const DECODE_ALL_FILTER = { kind: 'filter' as const, source: FILTER };
export const ONE_FIELD_FILTER = { kind: 'filter' as const, source: FIELD_FILTER };

export async function runProcedureBench(options: { records: number; groupRecords: number }): Promise<BenchReport> {
  const packr = new Packr({ useRecords: false });
  const batches: Array<{ keys: Uint8Array[]; values: Uint8Array[] }> = [];
  for (let b = 0; b < options.records; b += BATCH) {
    const keys: Uint8Array[] = [];
    const values: Uint8Array[] = [];
    for (let i = b; i < Math.min(b + BATCH, options.records); i++) {
      keys.push(benchKey(i));
      values.push(recordValue(packr, i));
    }
    batches.push({ keys, values });
  }
  const args = FILTER_ARGS;
  const pool = await SandboxPool.create({ isolates: 1, isolateMemoryMbMax: 128, compiledProceduresMax: 4, keyType: 'bytes' });
  const job = await pool.startJob(await pool.register({ kind: 'filter', source: FILTER }), args, { cpuMsMax: 600_000, wallMsMax: 10_000 });
  const hostFilter = (_key: Uint8Array, value: Uint8Array): boolean => (packr.unpack(value) as { group: number }).group === args.group;
  let sandboxPassed = 0;
  let hostPassed = 0;
  let sandboxNs = 0n;
  let oneAtATimeNs = 0n;
  let hostNs = 0n;
  for (let round = 0; round < 2; round++) { // round 0 warms both sides up
    sandboxPassed = 0;
    hostPassed = 0;
    // As a server runs a job: the next batch goes to the sandbox before this one's answer is back.
    let start = process.hrtime.bigint();
    let previous: Promise<number[]> | undefined;
    for (const batch of batches) {
      const answer = job.filter(batch);
      if (previous !== undefined) sandboxPassed += (await previous).length;
      previous = answer;
    }
    sandboxPassed += (await previous!).length;
    sandboxNs = process.hrtime.bigint() - start;
    // One batch at a time: each batch's full round trip to the sandbox process.
    start = process.hrtime.bigint();
    for (const batch of batches) await job.filter(batch);
    oneAtATimeNs = process.hrtime.bigint() - start;
    hostNs = 0n;
    for (const batch of batches) {
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
    extra: { passed: sandboxPassed, oneAtATimeRatio: Number((rate(oneAtATimeNs) / rate(hostNs)).toFixed(2)) },
  }];
  if (options.groupRecords > 0) rows.push(...await serverSideVsFetch(options.groupRecords));
  return { machine: machineInfo(), servers: 2, transport: 'isolated-vm sandbox vs host JS; 2 servers over unix', startedAt: new Date().toISOString(), rows };
}

/** The value of record i (about 256 bytes of msgpack; record i is in group i % 100). */
export function recordValue(packr: Packr, i: number): Uint8Array {
  return packr.pack({ id: i, group: i % 100, name: `record-${i}`, tags: ['a', 'b', String(i % 7)], score: i / 3, payload: 'p'.repeat(180) });
}

/** Writes records 0 .. records - 1 (recordValue) through the client, in batches of 1000. */
export async function loadFilterRecords(client: Client, records: number): Promise<void> {
  const packr = new Packr({ useRecords: false });
  for (let b = 0; b < records; b += BATCH) {
    await client.putMany(Array.from({ length: Math.min(BATCH, records - b) }, (_, j) => [benchKey(b + j), recordValue(packr, b + j)] as const));
  }
}

/** The best (of 2 rounds) seconds of each way to find the 1% and the bytes each brought to the client. */
export interface FilterPasses {
  decodeAllSeconds: number;
  oneFieldSeconds: number;
  fetchSeconds: number;
  matches: number;
  /** Bytes of keys and values reaching the client: the server-side filter's matches, and everything fetched. */
  serverKeyValueBytes: number;
  fetchKeyValueBytes: number;
  /** What `bytesReceived` counted during the decoding filter's pass and the fetch pass (0 without it). */
  serverReceivedBytes: number;
  fetchReceivedBytes: number;
}

/**
 * The 1% filter over the records loadFilterRecords wrote: run next to the data (client.execute),
 * decoding each value or reading just its one field, against fetching every record to the client
 * and filtering there (client.iterate, msgpackr's unpack); best of 2 rounds. `bytesReceived`, when
 * given, is read before and after a pass (say, a network interface's receive counter).
 */
export async function measureFilterPasses(client: Client, bytesReceived: () => number = () => 0): Promise<FilterPasses> {
  const packr = new Packr({ useRecords: false });
  const args = FILTER_ARGS;
  for (const spec of [DECODE_ALL_FILTER, ONE_FIELD_FILTER]) await (await client.execute(spec, { args, lt: benchKey(0) })).wait(); // ships it, warms the sandboxes
  const best: FilterPasses = { decodeAllSeconds: Infinity, oneFieldSeconds: Infinity, fetchSeconds: Infinity, matches: 0,
    serverKeyValueBytes: 0, fetchKeyValueBytes: 0, serverReceivedBytes: 0, fetchReceivedBytes: 0 };
  for (let round = 0; round < 2; round++) {
    for (const spec of [DECODE_ALL_FILTER, ONE_FIELD_FILTER]) {
      const received = bytesReceived();
      const start = process.hrtime.bigint();
      const matches = await (await client.execute(spec, { args })).wait() as Array<[Uint8Array, Buffer]>;
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (spec === DECODE_ALL_FILTER) best.serverReceivedBytes = bytesReceived() - received;
      let serverBytes = 0;
      for (const [key, value] of matches) serverBytes += key.length + value.length;
      if (round > 0 && matches.length !== best.matches) throw new Error(`the filters found ${best.matches} and ${matches.length}`);
      best.matches = matches.length;
      best.serverKeyValueBytes = serverBytes;
      if (spec === DECODE_ALL_FILTER) best.decodeAllSeconds = Math.min(best.decodeAllSeconds, seconds);
      else best.oneFieldSeconds = Math.min(best.oneFieldSeconds, seconds);
    }
    const received = bytesReceived();
    const start = process.hrtime.bigint();
    let fetched = 0;
    let fetchBytes = 0;
    for await (const [key, value] of client.iterate()) {
      fetchBytes += (key as Uint8Array).length + value!.length;
      if ((packr.unpack(value!) as { group: number }).group === args.group) fetched++;
    }
    best.fetchSeconds = Math.min(best.fetchSeconds, Number(process.hrtime.bigint() - start) / 1e9);
    best.fetchReceivedBytes = bytesReceived() - received;
    best.fetchKeyValueBytes = fetchBytes;
    if (fetched !== best.matches) throw new Error(`server-side filter found ${best.matches}, the client ${fetched}`);
  }
  return best;
}

/** The 1% filter over a 2-server group (measureFilterPasses), with a raw scan of the same records as the local limit. */
async function serverSideVsFetch(records: number): Promise<BenchRow[]> {
  const packr = new Packr({ useRecords: false });
  return withLocalGroup('procedure-bench', { servers: 2 }, async ({ client, dir }) => {
    process.stderr.write(`loading ${records} records of ~256 B into 2 servers ...\n`);
    await loadFilterRecords(client, records);
    const best = await measureFilterPasses(client);
    const rate = (seconds: number): number => records / seconds;
    const rawScan = await rawScanRate(dir, packr, Math.ceil(records / 2));
    return [
      { id: 'filter-server-side', what: `1% filter over ${records} records on 2 servers, decoding each value: execute vs fetch everything and filter in the client`,
        value: rate(best.decodeAllSeconds), unit: 'records/s', baseline: rate(best.fetchSeconds), ratio: best.fetchSeconds / best.decodeAllSeconds, extra: { matches: best.matches } },
      { id: 'filter-server-side-field', what: 'the same filter reading one field (hpckv.msgpackGet): execute vs fetch everything and filter in the client',
        value: rate(best.oneFieldSeconds), unit: 'records/s', baseline: rate(best.fetchSeconds), ratio: best.fetchSeconds / best.oneFieldSeconds, extra: { matches: best.matches } },
      { id: 'filter-vs-raw-scan', what: 'the one-field filter per server vs a raw classic-level scan of the same records in one process (the local limit of any scan)',
        value: rate(best.oneFieldSeconds) / 2, unit: 'records/s', baseline: rawScan, ratio: rate(best.oneFieldSeconds) / 2 / rawScan },
      { id: 'filter-bytes-to-client', what: 'bytes of keys and values reaching the client: execute vs fetch everything',
        value: best.serverKeyValueBytes, unit: 'bytes', baseline: best.fetchKeyValueBytes, ratio: best.fetchKeyValueBytes / best.serverKeyValueBytes },
    ];
  });
}

/** Records/s of a raw classic-level iterator (nextv, highWaterMarkBytes 1 MiB) over `records` of the bench's records. */
async function rawScanRate(dir: string, packr: Packr, records: number): Promise<number> {
  const raw = new ClassicLevel<Buffer, Buffer>(join(dir, 'raw'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await raw.open();
  try {
    for (let b = 0; b < records; b += BATCH) {
      const batch = raw.batch();
      for (let i = b; i < Math.min(b + BATCH, records); i++) batch.put(Buffer.from(benchKey(i)), Buffer.from(recordValue(packr, i)));
      await batch.write();
    }
    let best = 0;
    for (let round = 0; round < 2; round++) {
      const start = process.hrtime.bigint();
      const iterator = raw.iterator({ highWaterMarkBytes: 1024 * 1024 });
      let seen = 0;
      for (;;) {
        const entries = await iterator.nextv(BATCH);
        if (entries.length === 0) break;
        seen += entries.length;
      }
      await iterator.close();
      if (seen !== records) throw new Error(`raw scan saw ${seen} of ${records}`);
      best = Math.max(best, seen / (Number(process.hrtime.bigint() - start) / 1e9));
    }
    return best;
  } finally {
    await raw.close();
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
